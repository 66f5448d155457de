using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;

namespace Micropay.Core.Tests.Engine;

using Ledger = Micropay.Core.Ledger.LedgerStateMachine;

/// <summary>
/// The engine is the ledger behind a queue: submissions awaited one after another each become a ledger batch of
/// their own, stamped with the engine's clock, so their results and the final state must be exactly those of a plain
/// <see cref="LedgerStateMachine"/> given the same events one batch per submission with the same timestamps (after the
/// same genesis batch the engine's open applies). The engine's clock is a <see cref="EngineTestKit.ManualClock"/> the
/// script sets before each submission (including jumps that expire holds and steps backwards the ledger must absorb).
/// </summary>
public sealed class LedgerEngineProperties
{
    [Property(MaxTest = 150)]
    public Property SequentialSubmissions_InMemoryEngine_AgreeWithOneLedgerBatchPerSubmission() =>
        Prop.ForAll(Scripts(), script =>
        {
            // Off the test runner's synchronization context: the engine completes calls on the thread pool.
            string? disagreement = Task.Run(() => FirstDisagreementAsync(script)).GetAwaiter().GetResult();
            Assert.True(disagreement is null, $"{disagreement}\nscript:{script}");
        });

    /// <summary>
    /// Runs a script through an in-memory engine and a plain ledger; describes the first result or state that
    /// differs, or returns null. Shared with <see cref="LedgerEngineModelTests"/>, which replays shrunk scripts.
    /// </summary>
    internal static async Task<string?> FirstDisagreementAsync(Script script)
    {
        var clock = new EngineTestKit.ManualClock();
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Durability = DurabilityMode.InMemory, TimeProvider = clock, ClockPulses = false });

        // The open applied the engine's genesis batch (SetInstanceId) with the clock's reading then: a batch like any
        // other, whose start takes a timestamp (moving the ledger's clock) and would expire due holds. The reference
        // ledger takes the same step, with the same id at the same timestamp, so both start the script from one state.
        var ledger = new LedgerStateMachine();
        InstanceIdResult genesis = ledger.SetInstanceId(clock.Nanoseconds, engine.InstanceId);
        ulong opened = engine.ReleasedBatchNumber;
        if (genesis != InstanceIdResult.Ok || opened != EngineTestKit.GenesisBatches)
        {
            return $"the open released batch {opened} and the reference ledger's SetInstanceId returned {genesis}: expected the genesis batch alone, Ok";
        }

        int number = 0;
        foreach (Step step in script.AllSteps)
        {
            clock.Nanoseconds = step.Clock;
            string expected;
            string actual;
            if (step.Accounts is { } accounts)
            {
                var results = new CreateAccountResult[accounts.Length];
                int failed = ledger.CreateAccounts(step.Clock, accounts, results);
                expected = $"{failed}: {string.Join(", ", results)}";
                if (step.Single)
                {
                    actual = $"{failed}: {await engine.CreateAccountAsync(accounts[0])}";
                }
                else
                {
                    var engineResults = new CreateAccountResult[accounts.Length + 1];
                    actual = $"{await engine.CreateAccountsAsync(accounts, engineResults)}: {string.Join(", ", engineResults[..accounts.Length])}";
                }
            }
            else
            {
                Transfer[] transfers = step.Transfers!;
                var results = new CreateTransferResult[transfers.Length];
                int failed = ledger.CreateTransfers(step.Clock, transfers, results);
                expected = $"{failed}: {string.Join(", ", results)}";
                if (step.Single)
                {
                    actual = $"{failed}: {await engine.CreateTransferAsync(transfers[0])}";
                }
                else
                {
                    // One spare result slot: the engine must write exactly one result per event.
                    var engineResults = new CreateTransferResult[transfers.Length + 1];
                    actual = $"{await engine.CreateTransfersAsync(transfers, engineResults)}: {string.Join(", ", engineResults[..transfers.Length])}";
                }
            }

            if (actual != expected)
            {
                return $"step #{number} ({step}) results:\n  engine {actual}\n  ledger {expected}";
            }

            number++;
            if (engine.ReleasedBatchNumber != opened + (ulong)number)
            {
                return $"after step #{number - 1} the engine released batch {engine.ReleasedBatchNumber}, not {opened + (ulong)number}: the submissions were not one batch each";
            }

            Account[] engineAccounts = engine.ReadAllAccounts();
            if (!engineAccounts.AsSpan().SequenceEqual(ledger.Accounts))
            {
                return $"after step #{number - 1} the accounts differ:\n  engine {string.Join("\n         ", engineAccounts)}\n  ledger {string.Join("\n         ", ledger.Accounts.ToArray())}";
            }
        }

        foreach (UInt128 id in script.TransferIds)
        {
            bool inLedger = ledger.TryGetTransfer(id, out Transfer expected);
            bool inEngine = engine.TryGetTransfer(id, out Transfer actual);
            if (inLedger != inEngine || expected != actual)
            {
                return $"transfer {id}:\n  engine {(inEngine ? actual : "none")}\n  ledger {(inLedger ? expected : "none")}";
            }
        }

        return null;
    }

    // ---- Generators: a handful of account and transfer ids, so collisions, retries, chains and holds meet often. ----

    private const ulong Start = 1_000_000_000_000_000_000;

    private static readonly UInt128[] Amounts = [0, 1, 2, 3, 5, 10, 50, UInt128.MaxValue];

    // Clock moves between submissions: none, a little, past one and two second timeouts, and backwards.
    private static readonly long[] ClockSteps = [0, 0, 100, 1_000_000, 500_000_000, 1_000_000_000, 2_000_000_000, -1_000_000_000];

    private static Arbitrary<Script> Scripts()
    {
        Gen<Script> scripts =
            from count in Gen.Choose(1, 16)
            from moves in Gen.ArrayOf(Gen.Elements(ClockSteps), count)
            from steps in Gen.ArrayOf(StepGen(), count)
            select new Script([.. steps.Select((s, i) => s with { Clock = (ulong)((long)Start + moves.Take(i + 1).Sum()) })]);
        return Arb.From(scripts, Shrink);
    }

    private static Gen<Step> StepGen() =>
        Gen.Frequency(
            (1, from accounts in Gen.ArrayOf(AccountGen(), 1) select new Step(0, accounts, null, Single: true)),
            (1, from n in Gen.Choose(1, 4) from accounts in Gen.ArrayOf(AccountGen(), n) select new Step(0, accounts, null, Single: false)),
            (4, from transfers in Gen.ArrayOf(TransferGen(), 1) select new Step(0, null, transfers, Single: true)),
            (4, from n in Gen.Choose(1, 8) from transfers in Gen.ArrayOf(TransferGen(), n) select new Step(0, null, transfers, Single: false)));

    private static Gen<Account> AccountGen() =>
        from id in Gen.Choose(1, 8).Select(i => (UInt128)i)
        from ledgerId in Gen.Frequency((8, Gen.Constant(1u)), (1, Gen.Constant(2u)))
        from flags in Gen.Elements(
            AccountFlags.None, AccountFlags.None, AccountFlags.DebitsMustNotExceedCredits, AccountFlags.CreditsMustNotExceedDebits,
            AccountFlags.Linked, AccountFlags.Linked | AccountFlags.DebitsMustNotExceedCredits, AccountFlags.Closed)
        select new Account { Id = id, LedgerId = ledgerId, Code = 1, Flags = flags };

    private static Gen<Transfer> TransferGen()
    {
        Gen<TransferFlags> mode = Gen.Frequency(
            (6, Gen.Constant(TransferFlags.None)),
            (4, Gen.Constant(TransferFlags.Pending)),
            (3, Gen.Constant(TransferFlags.PostPendingTransfer)),
            (2, Gen.Constant(TransferFlags.VoidPendingTransfer)),
            (1, Gen.Constant(TransferFlags.BalancingDebit)),
            (1, Gen.Constant(TransferFlags.BalancingCredit)));
        return
            from id in Gen.Choose(1, 16).Select(i => (UInt128)i)
            from flags in mode
            from linked in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
            from debit in Gen.Choose(1, 9).Select(i => (UInt128)i)
            from credit in Gen.Choose(1, 9).Select(i => (UInt128)i)
            from amount in Gen.Elements(Amounts)
            from pendingId in Gen.Choose(1, 16).Select(i => (UInt128)i)
            from timeout in Gen.Elements(0u, 0u, 0u, 1u, 2u)
            select Build(id, flags | (linked ? TransferFlags.Linked : 0), debit, credit, amount, pendingId, timeout);
    }

    private static Transfer Build(UInt128 id, TransferFlags flags, UInt128 debit, UInt128 credit, UInt128 amount, UInt128 pendingId, uint timeout)
    {
        bool postOrVoid = (flags & (TransferFlags.PostPendingTransfer | TransferFlags.VoidPendingTransfer)) != 0;
        return new Transfer
        {
            Id = id,
            Flags = flags,
            DebitAccountId = postOrVoid ? 0 : debit,
            CreditAccountId = postOrVoid ? 0 : credit,
            LedgerId = postOrVoid ? 0 : 1u,
            Code = (ushort)(postOrVoid ? 0 : 1),
            Amount = amount,
            PendingId = postOrVoid ? pendingId : 0,
            Timeout = (flags & TransferFlags.Pending) != 0 ? timeout : 0,
        };
    }

    /// <summary>Shrinks by dropping a step, dropping one event of a batch, or unlinking one event.</summary>
    private static IEnumerable<Script> Shrink(Script script)
    {
        Step[] steps = script.Steps;
        for (int i = 0; i < steps.Length; i++)
        {
            yield return new Script([.. steps[..i], .. steps[(i + 1)..]]);
        }

        for (int i = 0; i < steps.Length; i++)
        {
            Step s = steps[i];
            if (s.Count > 1)
            {
                for (int k = 0; k < s.Count; k++)
                {
                    yield return script.With(i, s.Accounts is { } accounts
                        ? s with { Accounts = [.. accounts[..k], .. accounts[(k + 1)..]] }
                        : s with { Transfers = [.. s.Transfers![..k], .. s.Transfers[(k + 1)..]] });
                }
            }

            for (int k = 0; k < s.Count; k++)
            {
                if (s.Transfers is { } transfers && (transfers[k].Flags & TransferFlags.Linked) != 0)
                {
                    Transfer[] copy = [.. transfers];
                    copy[k].Flags &= ~TransferFlags.Linked;
                    yield return script.With(i, s with { Transfers = copy });
                }
                else if (s.Accounts is { } accounts && (accounts[k].Flags & AccountFlags.Linked) != 0)
                {
                    Account[] copy = [.. accounts];
                    copy[k].Flags &= ~AccountFlags.Linked;
                    yield return script.With(i, s with { Accounts = copy });
                }
            }
        }
    }

    /// <summary>One submission: a single event (<see cref="Single"/>) or a batch, made when the clock reads <see cref="Clock"/>.</summary>
    internal sealed record Step(ulong Clock, Account[]? Accounts, Transfer[]? Transfers, bool Single)
    {
        public int Count => Accounts?.Length ?? Transfers!.Length;

        public override string ToString()
        {
            string events = Accounts is { } accounts
                ? string.Join(", ", accounts.Select(a => $"new Account {{ Id = {a.Id}, LedgerId = {a.LedgerId}, Code = {a.Code}, Flags = (AccountFlags){(ushort)a.Flags} }}"))
                : string.Join(", ", Transfers!.Select(AsCSharp));
            string kind = Accounts is null ? "null, [" + events + "]" : "[" + events + "], null";
            return string.Create(CultureInfo.InvariantCulture, $"new Step({Clock}, {kind}, Single: {(Single ? "true" : "false")})");
        }

        private static string AsCSharp(Transfer t) => string.Create(
            CultureInfo.InvariantCulture,
            $"new Transfer {{ Id = {t.Id}, DebitAccountId = {t.DebitAccountId}, CreditAccountId = {t.CreditAccountId}, Amount = {(t.Amount == UInt128.MaxValue ? "UInt128.MaxValue" : t.Amount.ToString(CultureInfo.InvariantCulture))}, PendingId = {t.PendingId}, Timeout = {t.Timeout}, LedgerId = {t.LedgerId}, Code = {t.Code}, Flags = (TransferFlags){(ushort)t.Flags} }}");
    }

    /// <summary>
    /// A fixed setup (accounts of every kind, funded, so transfers have something to move) followed by the random
    /// steps FsCheck generates and shrinks.
    /// </summary>
    internal sealed class Script(Step[] steps)
    {
        private static readonly Step[] Setup =
        [
            new Step(Start - 2_000, [
                new Account { Id = 1, LedgerId = 1, Code = 1 },
                new Account { Id = 2, LedgerId = 1, Code = 1 },
                new Account { Id = 3, LedgerId = 1, Code = 1, Flags = AccountFlags.DebitsMustNotExceedCredits },
                new Account { Id = 4, LedgerId = 1, Code = 1, Flags = AccountFlags.CreditsMustNotExceedDebits },
            ], null, Single: false),
            new Step(Start - 1_000, null, [
                new Transfer { Id = 1_000_001, DebitAccountId = 1, CreditAccountId = 3, Amount = 20, LedgerId = 1, Code = 1 },
                new Transfer { Id = 1_000_002, DebitAccountId = 4, CreditAccountId = 2, Amount = 20, LedgerId = 1, Code = 1 },
            ], Single: false),
        ];

        public Step[] Steps { get; } = steps;

        public IEnumerable<Step> AllSteps => Setup.Concat(Steps);

        /// <summary>Every transfer id the script mentions, to compare (neither side can enumerate its transfers).</summary>
        public UInt128[] TransferIds =>
            [.. AllSteps.Where(s => s.Transfers is not null).SelectMany(s => s.Transfers!).SelectMany(t => new[] { t.Id, t.PendingId }).Distinct()];

        public Script With(int index, Step step)
        {
            Step[] copy = [.. Steps];
            copy[index] = step;
            return new Script(copy);
        }

        /// <summary>The steps after the setup, as C# to paste into <see cref="LedgerEngineModelTests"/>.</summary>
        public override string ToString()
        {
            var text = new StringBuilder("\n");
            foreach (Step step in Steps)
            {
                text.Append(step).Append(",\n");
            }

            return text.ToString();
        }
    }
}
