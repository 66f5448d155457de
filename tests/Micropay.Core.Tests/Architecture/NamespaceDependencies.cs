using System.Reflection;
using System.Reflection.Emit;

namespace Micropay.Core.Tests.Architecture;

/// <summary>
/// Which namespaces of an assembly use which, read by reflection: every type a type names in its signatures (base type,
/// interfaces, fields, properties, events, method parameters and returns, generic arguments, custom attributes) and every
/// type or member its method bodies reference (the IL's metadata tokens). Compiler-generated nested types count for the
/// type that declares them.
/// </summary>
internal static class NamespaceDependencies
{
    private const BindingFlags Everything =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value);

    /// <summary>For each (from, to) namespace pair with from != to, one example of a use: "type member uses type".</summary>
    public static Dictionary<(string From, string To), string> Of(Assembly assembly, string rootNamespace)
    {
        var uses = new Dictionary<(string, string), string>();
        foreach (Type type in assembly.GetTypes())
        {
            string? from = OwnerNamespace(type);
            if (from is null || !InRoot(from, rootNamespace))
            {
                continue;
            }

            foreach ((Type used, string where) in UsedTypes(type))
            {
                foreach (Type part in Flatten(used))
                {
                    string? to = OwnerNamespace(part);
                    if (to is not null && to != from && InRoot(to, rootNamespace))
                    {
                        uses.TryAdd((from, to), $"{type.FullName} {where} uses {part.FullName}");
                    }
                }
            }
        }

        return uses;
    }

    private static bool InRoot(string ns, string root) => ns == root || ns.StartsWith(root + ".", StringComparison.Ordinal);

    /// <summary>The namespace a type belongs to: its own, or its outermost declaring type's (nested and generated types).</summary>
    private static string? OwnerNamespace(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type.Namespace;
    }

    /// <summary>The type and the types it is built from: element types, generic arguments, declaring types.</summary>
    private static IEnumerable<Type> Flatten(Type type)
    {
        var stack = new Stack<Type>([type]);
        var seen = new HashSet<Type>();
        while (stack.Count > 0)
        {
            Type t = stack.Pop();
            if (!seen.Add(t) || t.IsGenericParameter)
            {
                continue;
            }

            yield return t;
            if (t.HasElementType)
            {
                stack.Push(t.GetElementType()!);
            }

            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                stack.Push(t.GetGenericTypeDefinition());
                foreach (Type argument in t.GetGenericArguments())
                {
                    stack.Push(argument);
                }
            }
        }
    }

    private static IEnumerable<(Type Used, string Where)> UsedTypes(Type type)
    {
        if (type.BaseType is { } baseType)
        {
            yield return (baseType, "(base type)");
        }

        foreach (Type contract in type.GetInterfaces())
        {
            yield return (contract, "(interface)");
        }

        foreach (CustomAttributeData attribute in type.CustomAttributes)
        {
            yield return (attribute.AttributeType, "(attribute)");
        }

        foreach (FieldInfo field in type.GetFields(Everything))
        {
            yield return (field.FieldType, field.Name);
        }

        foreach (PropertyInfo property in type.GetProperties(Everything))
        {
            yield return (property.PropertyType, property.Name);
        }

        foreach (EventInfo @event in type.GetEvents(Everything))
        {
            yield return (@event.EventHandlerType!, @event.Name);
        }

        foreach (MethodBase method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo info)
            {
                yield return (info.ReturnType, method.Name);
            }

            foreach (ParameterInfo parameter in method.GetParameters())
            {
                yield return (parameter.ParameterType, method.Name);
            }

            foreach (Type used in TypesInBody(method))
            {
                yield return (used, method.Name);
            }
        }
    }

    /// <summary>The types the method body's IL references through metadata tokens (types, fields, methods, and their declaring types).</summary>
    private static IEnumerable<Type> TypesInBody(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (InvalidOperationException)
        {
            yield break;
        }

        if (il is null)
        {
            yield break;
        }

        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        Module module = method.Module;
        int position = 0;
        while (position < il.Length)
        {
            short value = il[position++];
            if (value == 0xFE)
            {
                value = unchecked((short)(0xFE00 | il[position++]));
            }

            OpCode code = OpCodesByValue[value];
            int operandSize = code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, position)),
                _ => 4,
            };
            if (code.OperandType is OperandType.InlineType or OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok)
            {
                int token = BitConverter.ToInt32(il, position);
                MemberInfo? member = null;
                try
                {
                    member = module.ResolveMember(token, typeArguments, methodArguments);
                }
                catch (ArgumentException)
                {
                }

                switch (member)
                {
                    case Type t:
                        yield return t;
                        break;
                    case FieldInfo f:
                        yield return f.DeclaringType!;
                        yield return f.FieldType;
                        break;
                    case MethodBase m:
                        yield return m.DeclaringType!;
                        if (m is MethodInfo mi)
                        {
                            yield return mi.ReturnType;
                            foreach (Type argument in mi.IsGenericMethod ? mi.GetGenericArguments() : [])
                            {
                                yield return argument;
                            }
                        }

                        foreach (ParameterInfo parameter in m.GetParameters())
                        {
                            yield return parameter.ParameterType;
                        }

                        break;
                }
            }

            position += operandSize;
        }
    }
}
