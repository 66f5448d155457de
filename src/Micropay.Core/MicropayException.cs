namespace Micropay.Core;

/// <summary>
/// The base of the exceptions Micropay.Core throws for infrastructure failures and exhausted resources (as opposed
/// to caller bugs, which get <see cref="ArgumentException"/>, and business outcomes, which are status results).
/// </summary>
public class MicropayException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong, naming the resource or component.</param>
    public MicropayException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    /// <param name="message">What went wrong, naming the resource or component.</param>
    /// <param name="innerException">The cause.</param>
    public MicropayException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
