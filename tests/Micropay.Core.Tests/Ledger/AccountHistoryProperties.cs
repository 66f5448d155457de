using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Ledger;

using Batch = LedgerModelTests.Batch;
using Ledger = Micropay.Core.Ledger.LedgerStateMachine;
using Scenario = LedgerProperties.Scenario;

/// <summary>
/// <see cref="LedgerStateMachine.GetAccountTransfers(in AccountFilter, Span{Transfer})"/> against a reference: every
/// transfer the ledger holds (found by id, not through the index), filtered, ordered and cut with LINQ. The scenarios
/// are <see cref="LedgerProperties"/>' (linked chains that roll back, holds, posts, voids, expiries, retries and failures
/// over a handful of accounts); the filters pick accounts 0 to 8, both, one or no side, bounds at or next to stored
/// timestamps, limits from 0 to 10, and now and then a reserved flag or an invalid bound.
/// </summary>
public sealed class AccountHistoryProperties
{
    [Property(MaxTest = 300)]
    public Property GetAccountTransfers_AnyScenarioAndFilter_AgreesWithFilteringAllTransfers() =>
        Prop.ForAll(LedgerProperties.Scenarios(allowTimeouts: true), Arb.From(Gen.ArrayOf(FilterChoices(), 8)), (scenario, choices) =>
        {
            // Kept from the first batch, and built afterwards from the rows (after a snapshot round trip): both must agree
            // with the reference.
            var kept = new Ledger();
            kept.EnableAccountHistory();
            foreach (Batch batch in scenario.AllBatches)
            {
                LedgerProperties.Apply(kept, batch);
            }

            var snapshot = new ArrayBufferWriter<byte>();
            kept.WriteSnapshot(snapshot);
            Ledger rebuilt = Ledger.ReadSnapshot(snapshot.WrittenSpan);
            rebuilt.EnableAccountHistory();

            Transfer[] all = AllTransfers(kept, scenario);
            foreach (FilterChoice choice in choices)
            {
                AccountFilter filter = choice.Resolve(all);
                UInt128[] expected = Reference(all, filter);
                string? keptDiffers = Disagreement(kept, filter, expected, "kept");
                string? rebuiltDiffers = Disagreement(rebuilt, filter, expected, "rebuilt");
                if (keptDiffers is not null || rebuiltDiffers is not null)
                {
                    Assert.Fail($"{keptDiffers ?? rebuiltDiffers}\nscenario:{scenario}");
                }
            }
        });

    /// <summary>What differs between the ledger's answer (span and array) and the reference, or null.</summary>
    private static string? Disagreement(Ledger ledger, AccountFilter filter, UInt128[] expected, string which)
    {
        var results = new Transfer[12];
        int count = ledger.GetAccountTransfers(filter, results);
        string actual = string.Join(", ", results.Take(count).Select(t => t.Id));
        string viaArray = string.Join(", ", ledger.GetAccountTransfers(filter).Select(t => t.Id));
        string wanted = string.Join(", ", expected);

        // The span holds 12: it gets the first 12 of what the array gets.
        string wantedInSpan = string.Join(", ", expected.Take(results.Length));
        return actual == wantedInSpan && viaArray == wanted ? null : $"{which}: {filter}: expected [{wanted}], span [{actual}], array [{viaArray}]";
    }

    /// <summary>Every stored transfer, through id lookups (the reference must not use the index it checks), oldest first.</summary>
    private static Transfer[] AllTransfers(Ledger ledger, Scenario scenario) =>
        [.. scenario.TransferIds.Select(id => ledger.TryGetTransfer(id, out Transfer t) ? t : (Transfer?)null).OfType<Transfer>().OrderBy(t => t.Timestamp)];

    /// <summary>TigerBeetle's get_account_transfers, written out plainly.</summary>
    private static UInt128[] Reference(Transfer[] all, AccountFilter filter)
    {
        bool debits = (filter.Flags & AccountFilterFlags.Debits) != 0;
        bool credits = (filter.Flags & AccountFilterFlags.Credits) != 0;
        bool reversed = (filter.Flags & AccountFilterFlags.Reversed) != 0;
        bool valid = filter.AccountId != 0 && filter.AccountId != UInt128.MaxValue && filter.Limit != 0 && (debits || credits) &&
            ((uint)filter.Flags & ~7u) == 0 && filter.TimestampMin != ulong.MaxValue && filter.TimestampMax != ulong.MaxValue &&
            (filter.TimestampMax == 0 || filter.TimestampMin <= filter.TimestampMax);
        if (!valid)
        {
            return [];
        }

        IEnumerable<Transfer> selected = all
            .Where(t => (debits && t.DebitAccountId == filter.AccountId) || (credits && t.CreditAccountId == filter.AccountId))
            .Where(t => t.Timestamp >= filter.TimestampMin && (filter.TimestampMax == 0 || t.Timestamp <= filter.TimestampMax))
            .OrderBy(t => t.Timestamp);
        return [.. (reversed ? selected.Reverse() : selected).Take((int)Math.Min(filter.Limit, int.MaxValue)).Select(t => t.Id)];
    }

    private static Gen<FilterChoice> FilterChoices() =>
        from account in Gen.Frequency((12, Gen.Choose(1, 8).Select(i => (UInt128)i)), (1, Gen.Elements(UInt128.Zero, UInt128.MaxValue)))
        from flags in Gen.Frequency((12, Gen.Choose(0, 7).Select(f => (AccountFilterFlags)f)), (1, Gen.Constant((AccountFilterFlags)9)))
        from limit in Gen.Frequency((1, Gen.Constant(0u)), (8, Gen.Choose(1, 10).Select(l => (uint)l)), (1, Gen.Constant(uint.MaxValue)))
        from min in Bound()
        from max in Bound()
        select new FilterChoice(account, flags, limit, min, max);

    // A bound: unbounded, the max value (invalid), or the timestamp of the n-th stored transfer moved by -1, 0 or +1.
    private static Gen<(int Kind, int Index, int Delta)> Bound() =>
        from kind in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Constant(1)), (8, Gen.Constant(2)))
        from index in Gen.Choose(0, 30)
        from delta in Gen.Choose(-1, 1)
        select (kind, index, delta);

    internal sealed record FilterChoice(UInt128 Account, AccountFilterFlags Flags, uint Limit, (int Kind, int Index, int Delta) Min, (int Kind, int Index, int Delta) Max)
    {
        public AccountFilter Resolve(Transfer[] all) => new()
        {
            AccountId = Account,
            Flags = Flags,
            Limit = Limit,
            TimestampMin = Timestamp(Min, all),
            TimestampMax = Timestamp(Max, all),
        };

        private static ulong Timestamp((int Kind, int Index, int Delta) bound, Transfer[] all) => bound.Kind switch
        {
            0 => 0,
            1 => ulong.MaxValue,
            _ when all.Length == 0 => (ulong)(bound.Index + 1),
            _ => unchecked((ulong)((long)all[bound.Index % all.Length].Timestamp + bound.Delta)),
        };
    }
}
