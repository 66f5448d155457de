using System.Security.Cryptography;
using Micropay.Core.Identity;

namespace Micropay.Core.Tests.Identity.Passkeys;

/// <summary>One credential verified from many threads at once, as the ledger's edge does: every answer is the one a single thread gets.</summary>
public sealed class PasskeyConcurrencyTests
{
    private const int Threads = 8;
    private const int AssertionsPerThread = 40;

    [Fact]
    public void Verify_EightThreadsOnOneCredential_AcceptAllGenuineAndRefuseAllWrong()
    {
        using var authenticator = new SoftwareAuthenticator();
        using var impostor = new SoftwareAuthenticator(credentialId: authenticator.CredentialId);
        PasskeyCredential credential = authenticator.Credential();

        // Per thread: genuine assertions of distinct challenges, and for each a wrong one (another key, another
        // challenge, or no user verification), built before the threads start.
        var work = new List<(PasskeyAssertion Assertion, byte[] Challenge, PasskeyResult Expected)>[Threads];
        for (int t = 0; t < Threads; t++)
        {
            work[t] = [];
            for (int i = 0; i < AssertionsPerThread; i++)
            {
                byte[] challenge = SHA256.HashData(BitConverter.GetBytes((t * 1_000) + i));
                work[t].Add((authenticator.GetAssertion(challenge), challenge, PasskeyResult.Ok));
                work[t].Add((i % 3) switch
                {
                    0 => (impostor.GetAssertion(challenge), challenge, PasskeyResult.BadSignature),
                    1 => (authenticator.GetAssertion(challenge), SHA256.HashData(challenge), PasskeyResult.ChallengeMismatch),
                    _ => (authenticator.GetAssertion(challenge, flags: AuthenticatorFlags.UserPresent), challenge, PasskeyResult.UserNotVerified),
                });
            }
        }

        // Three rounds each, all threads released together: every answer must be the expected one, every time.
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        int verified = 0;
        using var start = new Barrier(Threads);
        Thread[] threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 3; round++)
            {
                foreach ((PasskeyAssertion assertion, byte[] challenge, PasskeyResult expected) in work[t])
                {
                    PasskeyResult result = credential.Verify(assertion, challenge, out _);
                    Interlocked.Increment(ref verified);
                    if (result != expected)
                    {
                        failures.Add($"thread {t}, round {round}: {result}, expected {expected}");
                    }
                }
            }
        })).ToArray();

        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        Assert.Empty(failures);
        Assert.Equal(Threads * AssertionsPerThread * 2 * 3, verified);
    }
}
