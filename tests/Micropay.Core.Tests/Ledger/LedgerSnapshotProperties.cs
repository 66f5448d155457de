using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

using Batch = LedgerModelTests.Batch;
using Ledger = Micropay.Core.Ledger.LedgerStateMachine;
using Scenario = LedgerProperties.Scenario;

/// <summary>
/// Properties of ledger snapshots over the random scenarios of <see cref="LedgerProperties"/> (small batches over a
/// handful of ids, so retries of old ids, posts and voids of old holds, holds expiring later, chains and burnt ids meet
/// often): a ledger restored at any point between batches is indistinguishable from the original, for every batch that
/// follows.
/// </summary>
/// <remarks>
/// "Indistinguishable" is checked three ways: the same results for every later batch, the same answers to every
/// lookup the scenario can ask, and byte-identical snapshots after every batch (which covers the account and transfer
/// rows, statuses, burnt ids in order, and the clock).
/// </remarks>
public sealed class LedgerSnapshotProperties
{
    [Property(MaxTest = 300)]
    public Property ReadSnapshot_AtAnyPointOfAScenario_BehavesLikeTheOriginalForEveryLaterBatch() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), Arb.From(Gen.Choose(0, 1000)), (scenario, cutSeed) =>
        {
            Batch[] batches = [.. scenario.AllBatches];
            int cut = cutSeed % (batches.Length + 1);
            var original = new LedgerStateMachine();
            foreach (Batch batch in batches[..cut])
            {
                LedgerProperties.Apply(original, batch);
            }

            LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(Snapshot(original));
            string? difference = FirstDifference(original, restored, scenario);
            for (int i = cut; i < batches.Length && difference is null; i++)
            {
                string expected = string.Join(", ", LedgerProperties.Apply(original, batches[i]));
                string actual = string.Join(", ", LedgerProperties.Apply(restored, batches[i]));
                difference = expected != actual
                    ? $"batch #{i} results:\n  original {expected}\n  restored {actual}"
                    : FirstDifference(original, restored, scenario);
            }

            return (difference is null).Label($"restored after {cut} batches: {difference}");
        });

    [Property(MaxTest = 200)]
    public Property ReadSnapshot_AfterEveryBatch_ChainOfRestoresMatchesTheUninterruptedLedger() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), scenario =>
        {
            var uninterrupted = new LedgerStateMachine();
            var restarted = new LedgerStateMachine();
            foreach (Batch batch in scenario.AllBatches)
            {
                string expected = string.Join(", ", LedgerProperties.Apply(uninterrupted, batch));

                // The restarted ledger lives only from one snapshot to the next, as across process restarts.
                string actual = string.Join(", ", LedgerProperties.Apply(restarted, batch));
                restarted = LedgerStateMachine.ReadSnapshot(Snapshot(restarted));
                if (expected != actual || FirstDifference(uninterrupted, restarted, scenario) is not null)
                {
                    return false;
                }
            }

            return true;
        });

    [Property(MaxTest = 300)]
    public Property WriteSnapshot_OfARestoredLedger_IsByteIdenticalToTheSnapshotItCameFrom() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), scenario =>
        {
            var ledger = new LedgerStateMachine();
            foreach (Batch batch in scenario.AllBatches)
            {
                LedgerProperties.Apply(ledger, batch);
            }

            byte[] snapshot = Snapshot(ledger);
            return Snapshot(LedgerStateMachine.ReadSnapshot(snapshot)).AsSpan().SequenceEqual(snapshot);
        });

    [Property(MaxTest = 200)]
    public Property WriteSnapshot_ThroughASegmentedBufferWriter_IsByteIdenticalToTheSpanVersion() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), Arb.From(Gen.Choose(1, 400)), (scenario, segmentSize) =>
        {
            LedgerStateMachine ledger = Replay(scenario);
            var writer = new SnapshotSegments(segmentSize);
            ledger.WriteSnapshot(writer);
            return writer.ToSequence().ToArray().AsSpan().SequenceEqual(Snapshot(ledger));
        });

    [Property(MaxTest = 200)]
    public Property ReadSnapshot_FromASequenceCutAnywhere_RestoresTheSameLedger() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), Arb.From(Gen.ArrayOf(Gen.Choose(0, 1_000_000))), (scenario, cutSeeds) =>
        {
            LedgerStateMachine original = Replay(scenario);
            byte[] snapshot = Snapshot(original);
            LedgerStateMachine restored = LedgerStateMachine.ReadSnapshot(SnapshotSequences.Split(snapshot, cutSeeds));
            string? difference = FirstDifference(original, restored, scenario);
            return (difference is null && Snapshot(restored).AsSpan().SequenceEqual(snapshot)).Label($"restored from {cutSeeds.Length} cuts: {difference}");
        });

    [Property(MaxTest = 300)]
    public Property ReadSnapshot_DamagedSnapshotAsASequence_FailsOrSucceedsExactlyAsTheSpanVersion() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), Arb.From(Gen.Choose(0, int.MaxValue)), Arb.From(Gen.ArrayOf(Gen.Choose(0, 1_000_000))), (scenario, damageSeed, cutSeeds) =>
        {
            byte[] snapshot = Snapshot(Replay(scenario));

            // One byte changed (or, one time in eight, the snapshot cut short), wherever the seed says.
            if (damageSeed % 8 == 0)
            {
                snapshot = snapshot[..(damageSeed / 8 % snapshot.Length)];
            }
            else
            {
                snapshot[damageSeed / 8 % snapshot.Length] ^= (byte)(1 + (damageSeed % 255));
            }

            byte[] copy = snapshot;
            string fromSpan = Outcome(() => LedgerStateMachine.ReadSnapshot(copy));
            string fromSequence = Outcome(() => LedgerStateMachine.ReadSnapshot(SnapshotSequences.Split(copy, cutSeeds)));
            return (fromSpan == fromSequence).Label($"span: {fromSpan}\nsequence: {fromSequence}");
        });

    private static Ledger Replay(Scenario scenario)
    {
        var ledger = new LedgerStateMachine();
        foreach (Batch batch in scenario.AllBatches)
        {
            LedgerProperties.Apply(ledger, batch);
        }

        return ledger;
    }

    /// <summary>The snapshot a restored ledger writes, or where and why reading was refused.</summary>
    private static string Outcome(Func<LedgerStateMachine> read)
    {
        try
        {
            return "restored: " + Convert.ToHexString(Snapshot(read()));
        }
        catch (LedgerSnapshotException e)
        {
            return $"refused at {e.Offset}: {e.Message}";
        }
    }

    internal static byte[] Snapshot(LedgerStateMachine ledger)
    {
        byte[] bytes = new byte[ledger.SnapshotSize];
        ledger.WriteSnapshot(bytes);
        return bytes;
    }

    /// <summary>Describes the first observable difference between two ledgers, or returns null.</summary>
    private static string? FirstDifference(LedgerStateMachine original, LedgerStateMachine restored, Scenario scenario)
    {
        if (original.LastTimestamp != restored.LastTimestamp)
        {
            return $"LastTimestamp: original {original.LastTimestamp}, restored {restored.LastTimestamp}";
        }

        if (!original.Accounts.SequenceEqual(restored.Accounts))
        {
            return "accounts differ";
        }

        if (original.TransferCount != restored.TransferCount || original.BurntIdCount != restored.BurntIdCount)
        {
            return $"counts: original {original.TransferCount}/{original.BurntIdCount}, restored {restored.TransferCount}/{restored.BurntIdCount}";
        }

        foreach (UInt128 id in scenario.TransferIds)
        {
            bool foundA = original.TryGetTransfer(id, out Transfer a);
            bool foundB = restored.TryGetTransfer(id, out Transfer b);
            original.TryGetPendingStatus(id, out PendingStatus statusA);
            restored.TryGetPendingStatus(id, out PendingStatus statusB);
            if (foundA != foundB || a != b || statusA != statusB)
            {
                return $"transfer {id}: original {(foundA ? a : "absent")} {statusA}, restored {(foundB ? b : "absent")} {statusB}";
            }
        }

        return Snapshot(original).AsSpan().SequenceEqual(Snapshot(restored)) ? null : "snapshots differ";
    }
}
