namespace Micropay.Core.Channels;

/// <summary>What an offline payee (<see cref="TickVerifier"/>) made of a tick.</summary>
public enum TickVerifyResult
{
    /// <summary>Accepted: it is now the best tick.</summary>
    Accepted = 0,

    /// <summary>The tick is for another channel.</summary>
    WrongChannel = 1,

    /// <summary>Its index is not above the best tick's (a replay, or an older tick).</summary>
    IndexNotIncreasing = 2,

    /// <summary>Its index is beyond the chain's length.</summary>
    IndexBeyondChain = 3,

    /// <summary>Its word does not hash to the best tick's word (or the root): not the chain's.</summary>
    BadWord = 4,

    /// <summary>It would pay more than the deposit the certificate states.</summary>
    ExceedsDeposit = 5,
}
