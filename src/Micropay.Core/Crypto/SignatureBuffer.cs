using System.Runtime.CompilerServices;

namespace Micropay.Core.Crypto;

/// <summary>
/// The 64 bytes of an Ed25519 signature, held inline in the record that carries it (a voucher is a struct: an array
/// would cost an allocation per voucher parsed).
/// </summary>
[InlineArray(VerificationKey.SignatureSize)]
internal struct SignatureBuffer
{
    private byte _first;
}
