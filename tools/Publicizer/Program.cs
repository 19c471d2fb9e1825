// Publicizer: copies an assembly with every `internal` (assembly / famorassem / famandassem) type and member made
// public. Private members stay private: making them public causes name clashes (e.g. explicit interface
// implementations and compiler-generated backing fields).
// Usage: Publicizer <input.dll> <output.dll> [<input.dll> <output.dll> ...]
using Mono.Cecil;

if (args.Length == 0 || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: Publicizer <input.dll> <output.dll> [...]");
    return 2;
}

for (int i = 0; i < args.Length; i += 2)
{
    string input = args[i], output = args[i + 1];
    var resolver = new DefaultAssemblyResolver();
    resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input))!);
    using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver });
    foreach (var type in assembly.MainModule.GetTypes())
        Publicize(type);
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
    string temp = output + ".tmp";
    assembly.Write(temp);
    File.Move(temp, output, overwrite: true);
    Console.WriteLine($"Publicizer: {Path.GetFileName(input)} -> {output}");
}
return 0;

static void Publicize(TypeDefinition type)
{
    var visibility = type.Attributes & TypeAttributes.VisibilityMask;
    if (type.IsNested)
    {
        if (visibility is TypeAttributes.NestedAssembly or TypeAttributes.NestedFamORAssem
            or TypeAttributes.NestedFamANDAssem)
            type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | TypeAttributes.NestedPublic;
    }
    else if (visibility == TypeAttributes.NotPublic)
    {
        type.Attributes = (type.Attributes & ~TypeAttributes.VisibilityMask) | TypeAttributes.Public;
    }

    foreach (var method in type.Methods)
    {
        var access = method.Attributes & MethodAttributes.MemberAccessMask;
        if (access is MethodAttributes.Assembly or MethodAttributes.FamORAssem or MethodAttributes.FamANDAssem)
            method.Attributes = (method.Attributes & ~MethodAttributes.MemberAccessMask) | MethodAttributes.Public;
    }

    foreach (var field in type.Fields)
    {
        var access = field.Attributes & FieldAttributes.FieldAccessMask;
        if (access is FieldAttributes.Assembly or FieldAttributes.FamORAssem or FieldAttributes.FamANDAssem)
            field.Attributes = (field.Attributes & ~FieldAttributes.FieldAccessMask) | FieldAttributes.Public;
    }
}
