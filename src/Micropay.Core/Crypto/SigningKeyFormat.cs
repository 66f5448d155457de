namespace Micropay.Core.Crypto;

/// <summary>The encodings in which a <see cref="SigningKey"/>'s private part can be imported and exported.</summary>
public enum SigningKeyFormat
{
    /// <summary>
    /// The 32-byte private key of RFC 8032 section 5.1.5 (the "seed" from which the signing scalar, the prefix and the
    /// public key are derived), with no header. The format of RFC 8032's test vectors and of most other libraries.
    /// </summary>
    RawSeed = 0,

    /// <summary>
    /// NSec's own private-key blob (<c>KeyBlobFormat.NSecPrivateKey</c>): an 8-byte header that names the algorithm and
    /// sizes (<c>DE 64 42 DE 20 00 40 00</c> in NSec 26.4) followed by the 32-byte seed; 40 bytes in all. It cannot be
    /// mistaken for another algorithm's key or for a public key.
    /// </summary>
    NSecPrivateKey = 1,
}
