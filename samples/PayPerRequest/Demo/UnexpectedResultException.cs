namespace PayPerRequest.Demo;

/// <summary>A result the demo or the load harness did not expect.</summary>
internal sealed class UnexpectedResultException(string message) : Exception(message)
{
    /// <summary>Stops the run when <paramref name="actual"/> is not <paramref name="expected"/>, saying what was expected.</summary>
    public static void Expect<T>(T actual, T expected, string what)
    {
        if (!EqualityComparer<T>.Default.Equals(actual, expected))
        {
            throw new UnexpectedResultException($"{what}: expected {expected}, got {actual}.");
        }
    }
}
