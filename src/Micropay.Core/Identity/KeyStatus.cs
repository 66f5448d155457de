namespace Micropay.Core.Identity;

/// <summary>A registered key's status.</summary>
public enum KeyStatus : byte
{
    /// <summary>The key authorises payments within its policy.</summary>
    Active = 1,

    /// <summary>
    /// The key was revoked: from the batch after its revocation's, it authorises nothing (no order, no channel open or
    /// top-up, no co-signature), and the channels funded under it are closing. Revocation is final.
    /// </summary>
    Revoked = 2,
}
