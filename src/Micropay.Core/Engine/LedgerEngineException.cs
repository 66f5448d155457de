namespace Micropay.Core.Engine;

/// <summary>
/// The engine stopped because its store failed (or an internal error occurred): the submission was not
/// acknowledged, and whether its batch reached the journal is unknown until the engine is opened again, which
/// recovers exactly the durable state. <see cref="Exception.InnerException"/> is the original failure.
/// </summary>
public sealed class LedgerEngineException : MicropayException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The failure that stopped the engine.</param>
    public LedgerEngineException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
