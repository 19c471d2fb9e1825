using MLNetAr.Models;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace MLNetAr.Tests.Repository;

/// <summary>The built MLNetAr.dll read as IL (Mono.Cecil), for the tests that hold its architecture.</summary>
internal static class LibraryIl
{
    /// <summary>MLNetAr.dll, resolving references from the tests' own output (the real ML.NET assemblies).</summary>
    public static ModuleDefinition Read()
    {
        string library = typeof(DensityModel).Assembly.Location;
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(library)!);
        resolver.AddSearchDirectory(AppContext.BaseDirectory);
        return ModuleDefinition.ReadModule(library, new ReaderParameters { AssemblyResolver = resolver });
    }

    /// <summary>The outermost type of <paramref name="type"/> (nested and generated types belong to it).</summary>
    public static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType != null) type = type.DeclaringType;
        return type;
    }

    /// <summary>
    /// Every type and member each type of <paramref name="module"/> names: base type, interfaces, attributes, field,
    /// property and method signatures, locals and the operands of method bodies.
    /// </summary>
    public static IEnumerable<(TypeDefinition User, MemberReference Reference)> References(ModuleDefinition module)
    {
        foreach (TypeDefinition type in module.GetTypes())
        {
            var named = new List<MemberReference?> { type.BaseType };
            named.AddRange(type.Interfaces.Select(i => i.InterfaceType));
            named.AddRange(type.CustomAttributes.Select(a => a.Constructor));
            named.AddRange(type.Fields.Select(f => f.FieldType));
            named.AddRange(type.Properties.Select(p => p.PropertyType));
            foreach (MethodDefinition method in type.Methods)
            {
                named.Add(method.ReturnType);
                named.AddRange(method.Parameters.Select(p => p.ParameterType));
                named.AddRange(method.CustomAttributes.Select(a => a.Constructor));
                named.AddRange(method.Overrides);
                if (!method.HasBody) continue;
                named.AddRange(method.Body.Variables.Select(v => v.VariableType));
                named.AddRange(method.Body.Instructions.Select(i => i.Operand as MemberReference));
            }
            foreach (MemberReference? reference in named)
                if (reference != null) yield return (type, reference);
        }
    }

    /// <summary>
    /// The types <paramref name="reference"/> names: itself or its declaring type, and the element and generic
    /// arguments of constructed types.
    /// </summary>
    public static IEnumerable<TypeReference> TypesNamed(MemberReference reference)
    {
        switch (reference)
        {
            case GenericInstanceType generic:
                return TypesNamed(generic.ElementType).Concat(generic.GenericArguments.SelectMany(TypesNamed));
            case TypeSpecification specification:
                return TypesNamed(specification.ElementType);
            case GenericParameter:
                return [];
            case TypeReference type:
                return [type];
            case GenericInstanceMethod method:
                return TypesNamed(method.ElementMethod).Concat(method.GenericArguments.SelectMany(TypesNamed));
            default:
                return reference.DeclaringType is { } declaring ? TypesNamed(declaring) : [];
        }
    }
}
