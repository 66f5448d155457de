using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Micropay.Core.Identity;

/// <summary>
/// The imported P-256 public key of one credential, as a small pool of <see cref="ECDsa"/> instances, so that
/// <see cref="PasskeyCredential.Verify"/> can run on many threads at once without sharing an instance and, once warm,
/// without allocating.
/// </summary>
/// <remarks>
/// <para>
/// Why a pool and not one shared instance: .NET documents no thread safety for the instance members of
/// <see cref="AsymmetricAlgorithm"/>. The runtime's Linux verify path was read (.NET 10, <c>ECDsaOpenSsl</c>: a lazily
/// created <c>EVP_PKEY</c> read under a SafeHandle reference, and a fresh <c>EVP_PKEY_CTX</c> per call) and looks safe
/// to share, but that is an implementation detail. The pool makes this type's thread safety independent of it, for the
/// price of an interlocked exchange per verification (a verification is tens of microseconds).
/// </para>
/// <para>
/// Invariants: each slot holds null or an instance imported from <see cref="_publicKey"/>, owned by the pool. An
/// instance taken out by <see cref="Rent"/> is used by that thread alone until <see cref="Return"/> puts it back in an
/// empty slot or, with every slot full, disposes it. Slots change only through <see cref="Interlocked"/> (full
/// fences), so what one thread's use of an instance wrote is visible to the next thread that takes it: a rent takes effect
/// at the exchange that empties a slot, a return at the compare-exchange that fills one. When every slot is
/// empty (more threads verifying at once than slots), <see cref="Rent"/> imports one more instance: that call
/// allocates, and the extra instance is disposed on return if no slot is free. The pooled instances are released by
/// their SafeHandles' finalizers once the credential is collected: a credential is long-lived and not disposable.
/// </para>
/// <para>
/// Why <c>ECDsaOpenSsl</c> on Linux rather than <see cref="ECDsa.Create()"/>: the latter returns a wrapper
/// (<c>ECDsaWrapper</c>) whose DER <c>VerifyHash</c> allocates about 1.4 KB per call (measured on .NET 10.0.12; its
/// IEEE P1363 verify allocates 1.2 KB, so the wrapper does not hand DER straight through), while
/// <c>ECDsaOpenSsl.VerifyHash</c> with <see cref="DSASignatureFormat.Rfc3279DerSequence"/> passes the DER to OpenSSL
/// and allocates nothing. Other platforms use <see cref="ECDsa.Create(ECParameters)"/>.
/// </para>
/// </remarks>
internal sealed class PasskeyVerifierPool
{
    private const int CoordinateSize = 32;

    // Immutable after construction: x || y.
    private readonly byte[] _publicKey;

    // Each element: null or an idle instance; read and written only with Interlocked.
    private readonly ECDsa?[] _slots;

    private PasskeyVerifierPool(byte[] publicKey, ECDsa first)
    {
        _publicKey = publicKey;
        _slots = new ECDsa?[Math.Clamp(Environment.ProcessorCount, 2, 16)];
        _slots[0] = first;
    }

    /// <summary>Imports x || y as a P-256 public key; false when the point is not on the curve. Never throws for bad input.</summary>
    public static bool TryCreate(ReadOnlySpan<byte> publicKey64, [NotNullWhen(true)] out PasskeyVerifierPool? pool)
    {
        pool = null;
        if (publicKey64.Length != PasskeyCredential.PublicKeySize)
        {
            return false;
        }

        byte[] publicKey = publicKey64.ToArray();
        ECDsa? first = TryImport(publicKey);
        if (first is null)
        {
            return false;
        }

        pool = new PasskeyVerifierPool(publicKey, first);
        return true;
    }

    /// <summary>The key's x || y (64 bytes).</summary>
    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>
    /// Checks a DER ES256 signature over a SHA-256 <paramref name="hash"/>. Allocates nothing once every concurrent caller
    /// has found a pooled instance; never throws for any signature bytes.
    /// </summary>
    public bool VerifyHash(ReadOnlySpan<byte> hash, ReadOnlySpan<byte> derSignature)
    {
        ECDsa verifier = Rent();
        try
        {
            return verifier.VerifyHash(hash, derSignature, DSASignatureFormat.Rfc3279DerSequence);
        }
        catch (CryptographicException)
        {
            // The provider reported an error rather than a mismatch: for the caller, a signature that does not verify.
            return false;
        }
        finally
        {
            Return(verifier);
        }
    }

    private ECDsa Rent()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            ECDsa? verifier = Interlocked.Exchange(ref _slots[i], null);
            if (verifier is not null)
            {
                return verifier;
            }
        }

        // More callers than slots: one more instance. The key imported once already, so it imports again.
        return TryImport(_publicKey) ?? throw new CryptographicException("A P-256 public key that imported before failed to import again.");
    }

    private void Return(ECDsa verifier)
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i], verifier, null) is null)
            {
                return;
            }
        }

        verifier.Dispose();
    }

    // Imports x || y on P-256; the import checks the point is on the curve. Null when it is not.
    private static ECDsa? TryImport(byte[] publicKey)
    {
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = publicKey[..CoordinateSize], Y = publicKey[CoordinateSize..] },
        };

        ECDsa? key = null;
        try
        {
            if (OperatingSystem.IsLinux())
            {
                key = new ECDsaOpenSsl();
                key.ImportParameters(parameters);
            }
            else
            {
                key = ECDsa.Create(parameters);
            }

            return key;
        }
        catch (CryptographicException)
        {
            key?.Dispose();
            return null;
        }
    }
}
