using System.Security.Cryptography;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>
/// Verifying an assertion allocates nothing once warm: the edge verifies one per co-signed payment and must not feed the
/// GC. (On Linux: the credential verifies through ECDsaOpenSsl; ECDsa.Create's wrapper would allocate about 1.4 KB per
/// DER verify, see PasskeyVerifierPool.)
/// </summary>
public sealed class PasskeyAllocationTests
{
    [Fact]
    public void Verify_Warm_AllocatesNothing()
    {
        using var authenticator = new SoftwareAuthenticator();
        PasskeyCredential credential = authenticator.Credential();
        byte[] challenge = SHA256.HashData("payment order"u8);
        PasskeyAssertion assertion = authenticator.GetAssertion(challenge, extensions: [0xA1, 0x01, 0x02]);
        bool allOk = true;

        long allocated = Allocations.OfWarm(() => allOk &= credential.Verify(assertion, challenge, out _) == PasskeyResult.Ok);

        Assert.True(allOk);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Verify_WarmRefusals_AllocateNothing()
    {
        // Refusals that do not involve malformed JSON (whose reader exception allocates) allocate nothing either.
        using var authenticator = new SoftwareAuthenticator();
        using var impostor = new SoftwareAuthenticator(credentialId: authenticator.CredentialId);
        PasskeyCredential credential = authenticator.Credential();
        byte[] challenge = SHA256.HashData("payment order"u8);
        PasskeyAssertion wrongOrigin = authenticator.GetAssertion(challenge, origin: "https://evil.example.com");
        PasskeyAssertion wrongKey = impostor.GetAssertion(challenge);
        bool allRefused = true;

        long allocated = Allocations.OfWarm(() =>
            allRefused &= credential.Verify(wrongOrigin, challenge, out _) == PasskeyResult.OriginMismatch &&
                credential.Verify(wrongKey, challenge, out _) == PasskeyResult.BadSignature);

        Assert.True(allRefused);
        Assert.Equal(0, allocated);
    }
}
