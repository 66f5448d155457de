namespace Micropay.Core.Fuzz;

/// <summary>A fuzz target's property was broken: the input is a finding (AFL++ records it as a crash).</summary>
public sealed class FuzzCheckException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FuzzCheckException()
    {
    }

    /// <summary>Creates the exception naming the broken property.</summary>
    public FuzzCheckException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception naming the broken property and its cause.</summary>
    public FuzzCheckException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
