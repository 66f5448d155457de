using System.Globalization;
using System.Numerics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Conservation;

namespace Micropay.Core.Tests.Ledger;

using Batch = LedgerModelTests.Batch;
using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// Properties of <see cref="LedgerStateMachine"/> over random scenarios: short sequences of small batches over a handful of
/// accounts and transfer ids, so that collisions, retries, chains and holds meet often. FsCheck shrinks a
/// failing scenario by dropping batches and events and unlinking chains; the shrunk scenario prints as C# ready
/// to paste into <see cref="LedgerRegressionTests"/>.
/// </summary>
public sealed class LedgerProperties
{
    [Property(MaxTest = 300)]
    public Property Balances_AfterEveryBatch_PostedAndPendingDebitsEqualCredits() =>
        Prop.ForAll(Scenarios(allowTimeouts: true), scenario =>
        {
            var ledger = new LedgerStateMachine();
            foreach (Batch batch in scenario.AllBatches)
            {
                Apply(ledger, batch);
                if (ConservationBreak(ledger.Accounts) is not null)
                {
                    return false;
                }
            }

            return true;
        });

    [Property(MaxTest = 300)]
    public Property BalanceFlags_AfterEveryBatch_AreNeverViolated() =>
        Prop.ForAll(Scenarios(allowTimeouts: true), scenario =>
        {
            var ledger = new LedgerStateMachine();
            foreach (Batch batch in scenario.AllBatches)
            {
                Apply(ledger, batch);
                foreach (Account a in ledger.Accounts)
                {
                    if ((a.Flags & AccountFlags.DebitsMustNotExceedCredits) != 0 && (BigSum(a.DebitsPending, a.DebitsPosted) > a.CreditsPosted))
                    {
                        return false;
                    }

                    if ((a.Flags & AccountFlags.CreditsMustNotExceedDebits) != 0 && (BigSum(a.CreditsPending, a.CreditsPosted) > a.DebitsPosted))
                    {
                        return false;
                    }
                }
            }

            return true;
        });

    /// <summary>
    /// Idempotency: once a batch has been applied, applying it again stores nothing new and moves no money. The
    /// scenarios carry no timeouts, because a hold expiring between the two applications would rightly change
    /// balances.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property TransferBatch_AppliedTwice_ChangesNothingTheSecondTime() =>
        Prop.ForAll(Scenarios(allowTimeouts: false), scenario =>
        {
            var ledger = new LedgerStateMachine();
            foreach (Batch batch in scenario.AllBatches)
            {
                Apply(ledger, batch);
                if (batch.Transfers is null)
                {
                    continue;
                }

                Account[] accountsBefore = ledger.Accounts.ToArray();
                Transfer?[] transfersBefore = [.. scenario.TransferIds.Select(id => Find(ledger, id))];
                int countBefore = ledger.TransferCount;

                // Timestamp 0: the ledger moves its clock on by itself (start = LastTimestamp + 1).
                Apply(ledger, batch with { Timestamp = 0 });
                Transfer?[] transfersAfter = [.. scenario.TransferIds.Select(id => Find(ledger, id))];
                if (!ledger.Accounts.SequenceEqual(accountsBefore) || ledger.TransferCount != countBefore ||
                    !transfersAfter.SequenceEqual(transfersBefore))
                {
                    return false;
                }
            }

            return true;
        });

    [Property(MaxTest = 200)]
    public Property SameInput_OnTwoFreshLedgers_GivesTheSameResultsAndState() =>
        Prop.ForAll(Scenarios(allowTimeouts: true), scenario =>
        {
            var first = new LedgerStateMachine();
            var second = new LedgerStateMachine();
            foreach (Batch batch in scenario.AllBatches)
            {
                if (!Apply(first, batch).SequenceEqual(Apply(second, batch)))
                {
                    return false;
                }
            }

            return first.LastTimestamp == second.LastTimestamp &&
                first.Accounts.SequenceEqual(second.Accounts) &&
                scenario.TransferIds.All(id => Find(first, id) == Find(second, id) && Status(first, id) == Status(second, id));
        });

    [Property(MaxTest = 500)]
    public Property Ledger_OnSmallRandomBatches_AgreesWithTheReferenceModel() =>
        Prop.ForAll(Scenarios(allowTimeouts: true), scenario => FirstDisagreement(scenario) is null);

    /// <summary>
    /// Replays a scenario on the ledger and the model; describes the first result or state that differs, or returns
    /// null. Shared with <see cref="LedgerRegressionTests"/>, which replays shrunk counterexamples.
    /// </summary>
    /// <summary>
    /// The engine publishes a batch by writing the ledger's logged account images, in order, over the previous
    /// batch's accounts; that must reproduce every account exactly, including after rolled-back chains and expiries.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property AccountChanges_AppliedInOrderOverThePreviousState_ReproduceEveryAccount() =>
        Prop.ForAll(Scenarios(allowTimeouts: true), scenario =>
        {
            var ledger = new LedgerStateMachine();
            var log = new AccountImageLog(4);
            ledger.AccountChanges = log;
            var published = new List<Account>();
            foreach (Batch batch in scenario.AllBatches)
            {
                log.Clear();
                Apply(ledger, batch);
                ReadOnlySpan<int> rows = log.Rows;
                ReadOnlySpan<Account> images = log.Images;
                for (int i = 0; i < rows.Length; i++)
                {
                    while (published.Count <= rows[i])
                    {
                        published.Add(default);
                    }

                    published[rows[i]] = images[i];
                }

                // Rows past the ledger's count were created inside a rolled-back chain that nothing reused.
                if (published.Count > ledger.AccountCount && published.Skip(ledger.AccountCount).Any(a => a != default))
                {
                    return false;
                }

                if (!ledger.Accounts.SequenceEqual(published.Take(ledger.AccountCount).ToArray()))
                {
                    return false;
                }
            }

            return true;
        });

    internal static string? FirstDisagreement(Scenario scenario)
    {
        var ledger = new LedgerStateMachine();
        var model = new ReferenceLedger();
        int number = 0;
        foreach (Batch batch in scenario.AllBatches)
        {
            string actual = string.Join(", ", Apply(ledger, batch));
            string expected = string.Join(", ", Apply(model, batch));
            if (actual != expected)
            {
                return $"batch #{number} results:\n  ledger {actual}\n  model  {expected}";
            }

            string? difference = model.FindDifference(ledger, scenario.TransferIds);
            if (difference is not null)
            {
                return $"batch #{number} state: {difference}";
            }

            number++;
        }

        return null;
    }

    /// <summary>Applies a batch to the ledger; the results rendered as strings so both kinds compare alike.</summary>
    internal static string[] Apply(LedgerStateMachine ledger, Batch batch)
    {
        if (batch.Accounts is { } accounts)
        {
            var results = new CreateAccountResult[accounts.Length];
            ledger.CreateAccounts(batch.Timestamp, accounts, results);
            return [.. results.Select(r => r.ToString())];
        }
        else
        {
            var results = new CreateTransferResult[batch.Transfers!.Length];
            ledger.CreateTransfers(batch.Timestamp, batch.Transfers, results);
            return [.. results.Select(r => r.ToString())];
        }
    }

    internal static string[] Apply(ReferenceLedger model, Batch batch)
    {
        if (batch.Accounts is { } accounts)
        {
            var results = new CreateAccountResult[accounts.Length];
            model.CreateAccounts(batch.Timestamp, accounts, results);
            return [.. results.Select(r => r.ToString())];
        }
        else
        {
            var results = new CreateTransferResult[batch.Transfers!.Length];
            model.CreateTransfers(batch.Timestamp, batch.Transfers, results);
            return [.. results.Select(r => r.ToString())];
        }
    }

    private static BigInteger BigSum(UInt128 a, UInt128 b) => (BigInteger)a + b;

    private static Transfer? Find(LedgerStateMachine ledger, UInt128 id) => ledger.TryGetTransfer(id, out Transfer t) ? t : null;

    private static PendingStatus? Status(LedgerStateMachine ledger, UInt128 id) => ledger.TryGetPendingStatus(id, out PendingStatus s) ? s : null;

    // ---- Generators. ----

    private static readonly UInt128[] Amounts =
        [0, 1, 2, 3, 5, 10, 50, UInt128.MaxValue, UInt128.MaxValue - 1, UInt128.One << 127];

    private static readonly ulong[] Timestamps =
        [0, 1, 500_000_000, 999_999_999, 1_000_000_000, 1_000_000_001, 2_000_000_000, 3_000_000_000, 10_000_000_000];

    internal static Arbitrary<Scenario> Scenarios(bool allowTimeouts)
    {
        Gen<Batch> batch = Gen.Frequency(
            (1, AccountBatch()),
            (5, TransferBatch(allowTimeouts)));
        Gen<Scenario> scenario = Gen.Choose(1, 8)
            .SelectMany(n => Gen.ArrayOf(batch, n))
            .Select(batches => new Scenario(batches));
        return Arb.From(scenario, Shrink);
    }

    private static Gen<Batch> AccountBatch() =>
        from timestamp in Gen.Elements(Timestamps)
        from count in Gen.Choose(0, 4)
        from accounts in Gen.ArrayOf(AccountGen(), count)
        select new Batch(timestamp, accounts, null);

    private static Gen<Account> AccountGen() =>
        from id in Gen.Frequency((12, Gen.Choose(1, 7).Select(i => (UInt128)i)), (1, Gen.Elements(UInt128.Zero, UInt128.MaxValue)))
        from ledgerId in Gen.Frequency((8, Gen.Constant(1u)), (2, Gen.Constant(2u)), (1, Gen.Constant(0u)))
        from code in Gen.Frequency((10, Gen.Constant((ushort)1)), (1, Gen.Constant((ushort)0)))
        from flags in Gen.Elements(
            AccountFlags.None, AccountFlags.None, AccountFlags.None, AccountFlags.DebitsMustNotExceedCredits,
            AccountFlags.CreditsMustNotExceedDebits, AccountFlags.Closed, AccountFlags.Linked,
            AccountFlags.Linked | AccountFlags.DebitsMustNotExceedCredits,
            AccountFlags.DebitsMustNotExceedCredits | AccountFlags.CreditsMustNotExceedDebits, (AccountFlags)0x100)
        from oddity in Gen.Frequency((12, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
        select new Account
        {
            Id = id,
            LedgerId = ledgerId,
            Code = code,
            Flags = flags,
            Timestamp = oddity == 1 ? 1UL : 0,
            Reserved = oddity == 2 ? 1u : 0,
            DebitsPosted = oddity == 3 ? UInt128.One : UInt128.Zero,
        };

    private static Gen<Batch> TransferBatch(bool allowTimeouts) =>
        from timestamp in Gen.Elements(Timestamps)
        from count in Gen.Frequency((1, Gen.Constant(0)), (8, Gen.Choose(1, 8)))
        from transfers in Gen.ArrayOf(TransferGen(allowTimeouts), count)
        select new Batch(timestamp, null, transfers);

    private static Gen<Transfer> TransferGen(bool allowTimeouts)
    {
        Gen<TransferFlags> mode = Gen.Frequency(
            (5, Gen.Constant(TransferFlags.None)),
            (4, Gen.Constant(TransferFlags.Pending)),
            (4, Gen.Constant(TransferFlags.PostPendingTransfer)),
            (2, Gen.Constant(TransferFlags.VoidPendingTransfer)),
            (1, Gen.Constant(TransferFlags.BalancingDebit)),
            (1, Gen.Constant(TransferFlags.BalancingCredit)),
            (1, Gen.Constant(TransferFlags.Pending | TransferFlags.BalancingDebit)),
            (1, Gen.Constant(TransferFlags.Pending | TransferFlags.ClosingDebit)),
            (1, Gen.Constant(TransferFlags.Pending | TransferFlags.ClosingCredit)),
            (1, Gen.Elements(
                TransferFlags.ClosingDebit,
                TransferFlags.Pending | TransferFlags.VoidPendingTransfer,
                TransferFlags.PostPendingTransfer | TransferFlags.BalancingCredit,
                (TransferFlags)0x1000)));
        Gen<uint> timeout = allowTimeouts ? Gen.Elements(0u, 0u, 0u, 1u, 2u) : Gen.Constant(0u);
        Gen<UInt128> smallId = Gen.Choose(1, 7).Select(i => (UInt128)i);
        return
            from id in Gen.Frequency((20, Gen.Choose(1, 20).Select(i => (UInt128)i)), (1, Gen.Elements(UInt128.Zero, UInt128.MaxValue)))
            from flags in mode
            from linked in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
            from debit in smallId
            from credit in smallId
            from amount in Gen.Elements(Amounts)
            from pendingId in Gen.Choose(1, 20).Select(i => (UInt128)i)
            from pendingTimeout in timeout
            from ledgerId in Gen.Frequency((10, Gen.Constant(1u)), (1, Gen.Constant(2u)), (1, Gen.Constant(0u)))
            from namesAccounts in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
            from userData in Gen.ArrayOf(Gen.Elements(0, 0, 0, 1, 2), 3)
            select Build(id, flags | (linked ? TransferFlags.Linked : 0), debit, credit, amount, pendingId, pendingTimeout, ledgerId, namesAccounts, userData);
    }

    private static Transfer Build(
        UInt128 id, TransferFlags flags, UInt128 debit, UInt128 credit, UInt128 amount, UInt128 pendingId, uint timeout, uint ledgerId, bool namesAccounts,
        int[] userData)
    {
        bool postOrVoid = (flags & (TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer)) != 0;
        bool pending = (flags & TransferFlags.Pending) != 0;
        return new Transfer
        {
            Id = id,
            Flags = flags,

            // Mostly zero, so posts and voids often inherit the pending transfer's values and retries often match.
            UserData128 = (UInt128)userData[0],
            UserData64 = (ulong)userData[1],
            UserData32 = (uint)userData[2],

            // A post or void mostly leaves accounts, ledger and code to the pending transfer.
            DebitAccountId = postOrVoid && !namesAccounts ? 0 : debit,
            CreditAccountId = postOrVoid && !namesAccounts ? 0 : credit,
            LedgerId = postOrVoid && !namesAccounts ? 0 : ledgerId,
            Code = (ushort)(postOrVoid && !namesAccounts ? 0 : 1),
            Amount = amount,
            PendingId = postOrVoid ? pendingId : 0,
            Timeout = pending ? timeout : 0,
        };
    }

    /// <summary>Shrinks by dropping a batch, dropping one event, or unlinking one event.</summary>
    private static IEnumerable<Scenario> Shrink(Scenario scenario)
    {
        Batch[] batches = scenario.Batches;
        for (int i = 0; i < batches.Length; i++)
        {
            yield return new Scenario([.. batches[..i], .. batches[(i + 1)..]]);
        }

        for (int i = 0; i < batches.Length; i++)
        {
            Batch b = batches[i];
            for (int k = 0; k < b.Count; k++)
            {
                Batch smaller = b.Accounts is { } accounts
                    ? b with { Accounts = [.. accounts[..k], .. accounts[(k + 1)..]] }
                    : b with { Transfers = [.. b.Transfers![..k], .. b.Transfers[(k + 1)..]] };
                yield return scenario.With(i, smaller);
            }

            for (int k = 0; k < b.Count; k++)
            {
                if (b.Accounts is { } accounts && (accounts[k].Flags & AccountFlags.Linked) != 0)
                {
                    Account[] copy = [.. accounts];
                    copy[k].Flags &= ~AccountFlags.Linked;
                    yield return scenario.With(i, b with { Accounts = copy });
                }
                else if (b.Transfers is { } transfers && (transfers[k].Flags & TransferFlags.Linked) != 0)
                {
                    Transfer[] copy = [.. transfers];
                    copy[k].Flags &= ~TransferFlags.Linked;
                    yield return scenario.With(i, b with { Transfers = copy });
                }
            }

            if (b.Timestamp != 0)
            {
                yield return scenario.With(i, b with { Timestamp = 0 });
            }
        }
    }

    /// <summary>
    /// A fixed setup (funded accounts of every kind, so transfers have something to move) followed by the random
    /// batches FsCheck generates and shrinks.
    /// </summary>
    internal sealed class Scenario(Batch[] batches)
    {
        private static readonly Batch[] Setup =
        [
            new Batch(1, [
                new Account { Id = 1, LedgerId = 1, Code = 1 },
                new Account { Id = 2, LedgerId = 1, Code = 1 },
                new Account { Id = 3, LedgerId = 1, Code = 1, Flags = AccountFlags.DebitsMustNotExceedCredits },
                new Account { Id = 4, LedgerId = 1, Code = 1, Flags = AccountFlags.CreditsMustNotExceedDebits },
                new Account { Id = 5, LedgerId = 2, Code = 1 },
            ], null),
            new Batch(2, null, [
                new Transfer { Id = 1_000_001, DebitAccountId = 1, CreditAccountId = 3, Amount = 20, LedgerId = 1, Code = 1 },
                new Transfer { Id = 1_000_002, DebitAccountId = 4, CreditAccountId = 2, Amount = 20, LedgerId = 1, Code = 1 },
            ]),
        ];

        public Batch[] Batches { get; } = batches;

        public IEnumerable<Batch> AllBatches => Setup.Concat(Batches);

        /// <summary>Every transfer id the scenario mentions, to probe (the ledger cannot enumerate its transfers).</summary>
        public UInt128[] TransferIds =>
        [
            .. AllBatches.Where(b => b.Transfers is not null).SelectMany(b => b.Transfers!).SelectMany(t => new[] { t.Id, t.PendingId }).Distinct(),
        ];

        public Scenario With(int index, Batch batch)
        {
            Batch[] copy = [.. Batches];
            copy[index] = batch;
            return new Scenario(copy);
        }

        /// <summary>The batches after the setup, as C# to paste into a regression test.</summary>
        public override string ToString()
        {
            var text = new StringBuilder("\n");
            foreach (Batch b in Batches)
            {
                if (b.Accounts is { } accounts)
                {
                    text.Append(CultureInfo.InvariantCulture, $"new Batch({b.Timestamp}, [{string.Join(", ", accounts.Select(AsCSharp))}], null),\n");
                }
                else
                {
                    text.Append(CultureInfo.InvariantCulture, $"new Batch({b.Timestamp}, null, [{string.Join(", ", b.Transfers!.Select(AsCSharp))}]),\n");
                }
            }

            return text.ToString();
        }

        private static string AsCSharp(Account a)
        {
            var fields = new List<string> { $"Id = {Literal(a.Id)}", $"LedgerId = {a.LedgerId}", $"Code = {a.Code}" };
            AddIf(fields, a.Flags != 0, $"Flags = (AccountFlags){(ushort)a.Flags}");
            AddIf(fields, a.Timestamp != 0, $"Timestamp = {a.Timestamp}");
            AddIf(fields, a.Reserved != 0, $"Reserved = {a.Reserved}");
            AddIf(fields, a.DebitsPosted != 0, $"DebitsPosted = {Literal(a.DebitsPosted)}");
            return $"new Account {{ {string.Join(", ", fields)} }}";
        }

        private static string AsCSharp(Transfer t)
        {
            var fields = new List<string> { $"Id = {Literal(t.Id)}" };
            AddIf(fields, t.DebitAccountId != 0, $"DebitAccountId = {Literal(t.DebitAccountId)}");
            AddIf(fields, t.CreditAccountId != 0, $"CreditAccountId = {Literal(t.CreditAccountId)}");
            AddIf(fields, t.Amount != 0, $"Amount = {Literal(t.Amount)}");
            AddIf(fields, t.PendingId != 0, $"PendingId = {Literal(t.PendingId)}");
            AddIf(fields, t.UserData128 != 0, $"UserData128 = {Literal(t.UserData128)}");
            AddIf(fields, t.UserData64 != 0, $"UserData64 = {t.UserData64}");
            AddIf(fields, t.UserData32 != 0, $"UserData32 = {t.UserData32}");
            AddIf(fields, t.Timeout != 0, $"Timeout = {t.Timeout}");
            AddIf(fields, t.LedgerId != 0, $"LedgerId = {t.LedgerId}");
            AddIf(fields, t.Code != 0, $"Code = {t.Code}");
            AddIf(fields, t.Flags != 0, $"Flags = {FlagsLiteral(t.Flags)}");
            return $"new Transfer {{ {string.Join(", ", fields)} }}";
        }

        private static string FlagsLiteral(TransferFlags flags) =>
            Enum.IsDefined(flags) || (flags & (TransferFlags)0xFF00) == 0
                ? string.Join(" | ", flags.ToString().Split(", ").Select(f => "TransferFlags." + f))
                : $"(TransferFlags){(ushort)flags}";

        private static string Literal(UInt128 value) =>
            value == UInt128.MaxValue ? "UInt128.MaxValue"
            : value == UInt128.MaxValue - 1 ? "UInt128.MaxValue - 1"
            : value == UInt128.One << 127 ? "UInt128.One << 127"
            : value.ToString(CultureInfo.InvariantCulture);

        private static void AddIf(List<string> fields, bool condition, string field)
        {
            if (condition)
            {
                fields.Add(field);
            }
        }
    }
}
