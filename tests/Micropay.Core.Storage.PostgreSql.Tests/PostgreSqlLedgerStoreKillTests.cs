using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Micropay.Core.Storage.PostgreSql.KillHarness;
using Xunit.Abstractions;

namespace Micropay.Core.Storage.PostgreSql.Tests;

/// <summary>
/// A writer killed with SIGKILL at a random moment loses nothing it acknowledged: a child process
/// (tests/Micropay.Core.Storage.PostgreSql.KillHarness) appends batches in a loop and prints each acknowledged batch
/// number; the test kills it, opens the ledger in a new store (taking it over) and checks that every acknowledged batch
/// is there byte for byte, at most the one batch in flight more, the journal chains, and appending continues. Bounded:
/// a few rounds, each a few seconds at most.
/// </summary>
public sealed class PostgreSqlLedgerStoreKillTests(ITestOutputHelper output) : LedgerTestBase
{
    private const int Rounds = 4;

    private static string HarnessPath => Path.Combine(AppContext.BaseDirectory, "kill-harness", "Micropay.Core.Storage.PostgreSql.KillHarness.dll");

    // The SDK sets DOTNET_HOST_PATH for test runs; otherwise rely on the PATH.
    private static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    [Fact]
    public async Task KilledWriter_EveryAcknowledgedBatchSurvivesAndTheNextWriterContinuesWithoutFork()
    {
        string connectionString = TestServer.ConnectionString;
        string ledger = NewLedger();
        var random = new Random(20261204);
        ulong expectedEnd = 0;
        for (int round = 0; round < Rounds; round++)
        {
            // Kill after a random number of acknowledgements (so sometimes right after open, sometimes deep in a run).
            int killAfter = random.Next(1, 80);
            (ulong openedAt, ulong lastAcked) = await RunAndKillAsync(connectionString, ledger, killAfter);
            Assert.Equal(expectedEnd, openedAt);

            // Take over: a new store must hold every acknowledged batch, plus at most the one in flight, chained.
            PostgreSqlLedgerStore store = Store(ledger);
            LedgerStoreState state = await store.OpenAsync();
            Assert.True(state.LastBatchNumber >= lastAcked, $"round {round}: batch {lastAcked} was acknowledged but the journal ends at {state.LastBatchNumber}");
            Assert.True(state.LastBatchNumber <= lastAcked + 1, $"round {round}: the journal ends at {state.LastBatchNumber}, past the one batch in flight after {lastAcked}");

            output.WriteLine($"round {round}: opened at {openedAt}, killed after acknowledging {lastAcked}, reopened at {state.LastBatchNumber}");
            List<CommitBatch> journal = await ReadAllAsync(store); // checks every row's hash and chain as it reads
            Assert.Equal((int)state.LastBatchNumber, journal.Count);
            BatchHash previous = BatchHash.Zero;
            foreach (CommitBatch batch in journal)
            {
                CommitBatch expected = KillBatches.Create(batch.BatchNumber, previous);
                Assert.Equal(Encode(expected), Encode(batch));
                previous = KillBatches.Hash(expected);
            }

            Assert.Equal(previous, state.LastBatchHash);

            // Appending continues from what is there, and the killed writer's epoch can append no more.
            CommitBatch next = KillBatches.Create(state.LastBatchNumber + 1, state.LastBatchHash);
            await store.AppendAsync(next);
            expectedEnd = next.BatchNumber;
            await store.DisposeAsync();
        }

        Assert.True(expectedEnd >= Rounds, "the rounds appended nothing");
    }

    // Starts the harness, waits until it printed `killAfter` acknowledgements (or ran 10 s), kills it, and returns the
    // batch number it opened at and the last batch it acknowledged.
    private static async Task<(ulong OpenedAt, ulong LastAcked)> RunAndKillAsync(string connectionString, string ledger, int killAfter)
    {
        Assert.True(File.Exists(HarnessPath), $"the kill harness was not built to {HarnessPath}");
        var start = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true, // held open: the child exits if this process dies
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HarnessPath);
        start.ArgumentList.Add(ledger);
        start.ArgumentList.Add("100000");
        start.Environment[TestServer.Variable] = connectionString;

        var lines = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<string>();
        int acks = 0;
        using Process child = Process.Start(start)!;
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lines.Enqueue(e.Data);
                if (e.Data.StartsWith("ack ", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref acks);
                }
            }
        };
        child.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
            }
        };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        try
        {
            var deadline = Stopwatch.StartNew();
            while (Volatile.Read(ref acks) < killAfter && !child.HasExited && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(1);
            }

            if (child.HasExited)
            {
                Assert.Fail($"the harness exited early ({child.ExitCode}): {string.Join(" | ", errors)}");
            }
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true); // SIGKILL: no finally blocks, no disposal, the socket just closes
            }

            await child.WaitForExitAsync();
        }

        // Lines printed before the kill were all delivered once the process exited and its output closed.
        ulong openedAt = ulong.MaxValue;
        ulong lastAcked = 0;
        foreach (string line in lines)
        {
            string[] parts = line.Split(' ');
            if (parts[0] == "open")
            {
                openedAt = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            else if (parts[0] == "ack")
            {
                ulong number = ulong.Parse(parts[1], CultureInfo.InvariantCulture);
                Assert.Equal(lastAcked == 0 ? openedAt + 1 : lastAcked + 1, number);
                lastAcked = number;
            }
        }

        Assert.NotEqual(ulong.MaxValue, openedAt);
        return (openedAt, lastAcked == 0 ? openedAt : lastAcked);
    }

    private static byte[] Encode(CommitBatch batch)
    {
        byte[] bytes = new byte[batch.EncodedLength];
        batch.Encode(bytes);
        return bytes;
    }
}
