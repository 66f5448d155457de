namespace Micropay.Core.Crypto;

/// <summary>
/// Whether a <see cref="SigningKey"/>'s private seed may ever leave it as plaintext bytes. Following NSec, the default is
/// <see cref="None"/>: a key that was never meant to be exported cannot be exported by accident.
/// </summary>
public enum KeyExportPolicy
{
    /// <summary>The key can sign, but <see cref="SigningKey.Export"/> and <see cref="SigningKey.TryExport"/> refuse to reveal it.</summary>
    None = 0,

    /// <summary>
    /// The key may be exported any number of times with <see cref="SigningKey.Export"/> or <see cref="SigningKey.TryExport"/>.
    /// The caller then owns the plaintext bytes and should wipe them
    /// (<see cref="System.Security.Cryptography.CryptographicOperations.ZeroMemory"/>) once stored.
    /// </summary>
    AllowExport = 1,
}
