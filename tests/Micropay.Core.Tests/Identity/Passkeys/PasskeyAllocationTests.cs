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
    // Far more warm-up than Allocations.OfWarm's 200 calls: the verify path is not compiled fully optimised at its first
    // call (unlike the ledger's hot paths), and in a loaded full run a one-off 8 KB allocation was once measured partway
    // through the loop (not reproduced alone), most likely the runtime finishing the tiering of that path; 0.3 s of
    // calls lets it settle first. The assertion stays exact.
    private const int WarmCalls = 5_000;

    [Fact]
    public void Verify_Warm_AllocatesNothing()
    {
        using var authenticator = new SoftwareAuthenticator();
        PasskeyCredential credential = authenticator.Credential();
        byte[] challenge = SHA256.HashData("payment order"u8);
        PasskeyAssertion assertion = authenticator.GetAssertion(challenge, extensions: [0xA1, 0x01, 0x02]);
        bool allOk = true;

        Action verify = () => allOk &= credential.Verify(assertion, challenge, out _) == PasskeyResult.Ok;
        long allocated = Allocations.OnDedicatedThread(verify, WarmCalls, verify, Allocations.MeasuredCalls);

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

        Action refuse = () =>
            allRefused &= credential.Verify(wrongOrigin, challenge, out _) == PasskeyResult.OriginMismatch &&
                credential.Verify(wrongKey, challenge, out _) == PasskeyResult.BadSignature;
        long allocated = Allocations.OnDedicatedThread(refuse, WarmCalls, refuse, Allocations.MeasuredCalls);

        Assert.True(allRefused);
        Assert.Equal(0, allocated);
    }
}
