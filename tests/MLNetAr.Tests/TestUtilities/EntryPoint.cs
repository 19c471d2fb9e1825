using System.Reflection;

namespace MLNetAr.Tests.TestUtilities;

/// <summary>
/// Runs a sample program's entry point in-process, capturing what it writes (tests that use it share the console
/// collection).
/// </summary>
internal static class EntryPoint
{
    public static (int ExitCode, string Output) Run(Assembly program, params string[] args)
    {
        var output = new StringWriter();
        TextWriter savedOut = Console.Out, savedError = Console.Error;
        Console.SetOut(output);
        Console.SetError(output);
        try
        {
            object? exit = program.EntryPoint!.Invoke(null, [args]);
            return ((int)exit!, output.ToString());
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedError);
        }
    }
}
