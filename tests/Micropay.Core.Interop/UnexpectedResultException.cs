namespace Micropay.Core.Interop;

/// <summary>The engine or the library did something the vectors do not expect: the program stops with exit code 1.</summary>
internal sealed class UnexpectedResultException(string message) : Exception(message);
