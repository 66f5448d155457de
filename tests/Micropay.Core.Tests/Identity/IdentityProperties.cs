using System.Globalization;
using System.Numerics;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Identity;

/// <summary>
/// The key registry and payment orders over random scripts of registrations, policy updates, revocations and batches of
/// orders (random amounts, payees, ledgers, expiries, co-signers and retries), at times that advance by random gaps that
/// include each window's length and one less. Checked against <see cref="IdentityModel"/> (the documented rules restated)
/// for every result and balance; then, on the ledger itself: no window ever holds more than its limit, no revoked key
/// pays after its revocation's batch, money is conserved; and a ledger restored from a snapshot midway, or replayed from
/// the journal's records, gives the same results and state.
/// </summary>
/// <remarks>
/// Each key keeps its window length and limit for the whole script (its other policy fields change with updates), so
/// the window invariant has one limit per key. What a changed window length does is pinned by
/// <see cref="IdentityLedgerRegressionTests"/>.
/// </remarks>
public sealed class IdentityProperties
{
    private const ulong Funds = 800;
    private const ulong ShortWindow = 1_000;
    private const ulong LongWindow = 5_000;
    private static readonly UInt128 Missing = 77;

    // Keys 0 to 3 may be registered; key 4 never is. Fixed seeds, so failures reproduce; shared and never disposed.
    private static readonly SigningKey[] Keys =
    [
        .. Enumerable.Range(0, 5).Select(k => SigningKey.Import(Enumerable.Range(0, 32).Select(i => (byte)((k * 37) + i + 1)).ToArray(), SigningKeyFormat.RawSeed)),
    ];

    private static readonly UInt128[] KeyIdOf = [.. Keys.Select(k => KeyIds.Of(k.VerificationKey))];

    [Property(MaxTest = 300)]
    public Property Script_EveryResult_AgreesWithTheModelAndWindowsRevocationsAndMoneyHold() =>
        Prop.ForAll(Scripts(), script => Passes(RunAgainstModel(script), script));

    [Property(MaxTest = 150)]
    public Property Script_RestoredFromASnapshotMidwayOrReplayedFromItsRecords_GivesTheSameResultsAndState() =>
        Prop.ForAll(Scripts(), Gen.Choose(0, 40).ToArbitrary(), (script, cut) => Passes(RunWithRecovery(script, cut), script));

    /// <summary>Runs a script on a ledger and the model; returns the first disagreement or broken invariant, or null.</summary>
    internal static string? RunAgainstModel(IReadOnlyList<Step> script)
    {
        using var kit = new IdentityTestKit(Funds);
        var model = new IdentityModel(Funds);
        var batches = new Materializer(kit.Now);
        var paid = new List<(UInt128 KeyId, UInt128 OrderId, UInt128 Amount)>();
        var revokedAt = new Dictionary<UInt128, ulong>();
        for (int i = 0; i < script.Count; i++)
        {
            ulong at = kit.Now + script[i].Gap;
            Batch batch = batches.Materialize(script[i], at);
            uint[] actual = Apply(kit, batch);
            if (kit.Now != at + (ulong)actual.Length - 1)
            {
                return $"step {i}: the batch at {at} of {actual.Length} events ended at {kit.Now}";
            }

            for (int e = 0; e < actual.Length; e++)
            {
                ulong t = at + (ulong)e;
                uint expected;
                if (batch.Keys is { } keys)
                {
                    expected = (uint)model.Apply(keys[e], t);
                    if (expected == (uint)KeyResult.Ok && keys[e].Kind == KeyOperationKind.Revoke)
                    {
                        revokedAt[keys[e].KeyId] = t;
                    }
                }
                else
                {
                    PaymentOrder order = batch.Orders![e];
                    expected = (uint)model.Execute(order, t);
                    if (expected == (uint)OrderResult.Ok)
                    {
                        paid.Add((order.KeyId, order.Id, order.Amount));
                    }
                }

                if (actual[e] != expected)
                {
                    return $"step {i} ({script[i]}), event {e} at {t}: ledger {Describe(batch, actual[e])}, model {Describe(batch, expected)}";
                }
            }

            foreach (UInt128 account in IdentityModel.Accounts)
            {
                if (Net(kit.Ledger, account) != model.Balance(account))
                {
                    return $"step {i}: account {account} holds {Net(kit.Ledger, account)}, the model {model.Balance(account)}";
                }
            }
        }

        return WindowBreak(kit.Ledger, paid) ?? RevocationBreak(kit.Ledger, paid, revokedAt) ?? Conservation.ConservationBreak(kit.Ledger.Accounts) ?? model.KeysBreak(kit.Ledger);
    }

    /// <summary>
    /// Runs a script on a ledger while a second ledger, restored from a snapshot of the first before step
    /// <paramref name="cut"/>, takes the same steps; then replays every batch's records (encoded and decoded by the
    /// operation's codec) on a fresh ledger. Returns the first difference, or null.
    /// </summary>
    internal static string? RunWithRecovery(IReadOnlyList<Step> script, int cut)
    {
        using var original = new IdentityTestKit(Funds);
        var batches = new Materializer(original.Now);
        var journal = new List<(Batch Batch, uint[] Results)>();
        IdentityTestKit? restored = null;
        try
        {
            for (int i = 0; i < script.Count; i++)
            {
                if (i == Math.Min(cut, script.Count - 1))
                {
                    restored = original.Restored();
                }

                Batch batch = batches.Materialize(script[i], original.Now + script[i].Gap);
                uint[] results = Apply(original, batch);
                journal.Add((batch, results));
                if (restored is not null && Apply(restored, batch) is var again && !again.SequenceEqual(results))
                {
                    return $"step {i} ({script[i]}): original [{string.Join(", ", results)}], restored [{string.Join(", ", again)}]";
                }
            }

            if (restored is not null && StateDifference(original.Ledger, restored.Ledger) is { } restoredDiffers)
            {
                return "restored from the snapshot: " + restoredDiffers;
            }

            using var replay = new IdentityTestKit(Funds);
            for (int i = 0; i < journal.Count; i++)
            {
                uint[] replayed = Apply(replay, RoundTrip(journal[i].Batch));
                if (!replayed.SequenceEqual(journal[i].Results))
                {
                    return $"replay of step {i} ({script[i]}): [{string.Join(", ", replayed)}], at first [{string.Join(", ", journal[i].Results)}]";
                }
            }

            return StateDifference(original.Ledger, replay.Ledger) is { } replayDiffers ? "replayed from the records: " + replayDiffers : null;
        }
        finally
        {
            restored?.Dispose();
        }
    }

    private static bool Passes(string? failure, Step[] script) =>
        failure is null ? true : throw new InvalidOperationException(failure + "\nscript: " + string.Join(", ", (IEnumerable<Step>)script));

    /// <summary>Applies a batch in one ledger batch at its time; the results as numbers.</summary>
    private static uint[] Apply(IdentityTestKit kit, Batch batch) =>
        batch.Keys is { } keys ? [.. kit.Keys(batch.At, keys).Select(r => (uint)r)] : [.. kit.Execute(batch.At, batch.Orders!).Select(r => (uint)r)];

    /// <summary>The batch's events encoded as the journal stores them and decoded back, by the operation that journals them.</summary>
    private static Batch RoundTrip(Batch batch)
    {
        if (batch.Keys is { } keys)
        {
            byte[] records = new byte[keys.Length * KeyOperation.Size];
            OperationRegistry.ManageKeys.Encode(keys, records);
            var decoded = new KeyOperation[keys.Length];
            OperationRegistry.ManageKeys.Decode(records, decoded);
            return batch with { Keys = decoded };
        }

        PaymentOrder[] orders = batch.Orders!;
        ExecuteOrdersOperation operation = orders.Any(o => o.CoSignature is not null) ? OperationRegistry.ExecuteCoSignedOrders : OperationRegistry.ExecuteOrders;
        byte[] bytes = new byte[orders.Length * operation.EventSize];
        operation.Encode(orders, bytes);
        var read = new PaymentOrder[orders.Length];
        operation.Decode(bytes, read);
        return batch with { Orders = read };
    }

    private static string? StateDifference(LedgerStateMachine expected, LedgerStateMachine actual)
    {
        if (expected.LastTimestamp != actual.LastTimestamp)
        {
            return $"clock {actual.LastTimestamp}, expected {expected.LastTimestamp}";
        }

        string accounts = IdentityTestKit.DescribeAccounts(actual);
        if (accounts != IdentityTestKit.DescribeAccounts(expected))
        {
            return $"accounts\n{accounts}\nexpected\n{IdentityTestKit.DescribeAccounts(expected)}";
        }

        string keys = IdentityTestKit.DescribeKeys(actual);
        return keys == IdentityTestKit.DescribeKeys(expected) ? null : $"keys\n{keys}\nexpected\n{IdentityTestKit.DescribeKeys(expected)}";
    }

    /// <summary>
    /// Whether some key's payments add up to more than its window limit in some window: the sum over <c>(t - length, t]</c>
    /// changes only at a payment's time and at that time plus the length, so checking every time at, just before and at
    /// those points checks every <c>t</c>.
    /// </summary>
    private static string? WindowBreak(LedgerStateMachine ledger, List<(UInt128 KeyId, UInt128 OrderId, UInt128 Amount)> paid)
    {
        for (int k = 0; k < Keys.Length; k++)
        {
            (ulong length, UInt128 limit) = Window(k);
            if (length == 0)
            {
                continue;
            }

            var payments = new List<(ulong At, UInt128 Amount)>();
            foreach ((UInt128 keyId, UInt128 orderId, UInt128 amount) in paid.Where(p => p.KeyId == KeyIdOf[k]))
            {
                if (!ledger.TryGetTransfer(orderId, out Transfer transfer))
                {
                    return $"order {orderId} was Ok but its transfer is missing";
                }

                payments.Add((transfer.Timestamp, amount));
            }

            foreach (ulong t in payments.SelectMany(p => new[] { p.At, p.At + length - 1, p.At + length }))
            {
                BigInteger sum = payments.Where(p => p.At <= t && t - p.At < length).Aggregate(BigInteger.Zero, (s, p) => s + p.Amount);
                if (sum > limit)
                {
                    return $"key {k} spent {sum} in the window ending at {t}, over its limit {limit}";
                }
            }
        }

        return null;
    }

    /// <summary>Whether an order by a key was applied in a batch after its revocation's (orders and revocations never share a batch).</summary>
    private static string? RevocationBreak(LedgerStateMachine ledger, List<(UInt128 KeyId, UInt128 OrderId, UInt128 Amount)> paid, Dictionary<UInt128, ulong> revokedAt)
    {
        foreach ((UInt128 keyId, UInt128 orderId, _) in paid)
        {
            if (revokedAt.TryGetValue(keyId, out ulong revoked) && ledger.TryGetTransfer(orderId, out Transfer transfer) && transfer.Timestamp >= revoked)
            {
                return $"order {orderId} by key {keyId:X32} was applied at {transfer.Timestamp}, after its revocation at {revoked}";
            }
        }

        return null;
    }

    private static BigInteger Net(LedgerStateMachine ledger, UInt128 account)
    {
        Assert.True(ledger.TryGetAccount(account, out Account a));
        return (BigInteger)a.CreditsPosted - a.DebitsPosted;
    }

    private static string Describe(Batch batch, uint result) => batch.Keys is null ? ((OrderResult)result).ToString() : ((KeyResult)result).ToString();

    /// <summary>Key <paramref name="k"/>'s window, the same in every policy it gets.</summary>
    private static (ulong Length, UInt128 Limit) Window(int k) => k switch
    {
        0 => (ShortWindow, 300),
        1 => (LongWindow, 500),
        3 => (ShortWindow, 120),
        _ => (0, UInt128.MaxValue),
    };

    /// <summary>Key <paramref name="k"/>'s policy for a choice, with validity times counted from <paramref name="start"/>.</summary>
    private static SpendingPolicy Policy(int k, PolicyChoice c, ulong start)
    {
        (ulong length, UInt128 limit) = Window(k);
        ulong validFrom = c.ValidFrom < 0 ? 0 : start + (ulong)c.ValidFrom;
        return new SpendingPolicy
        {
            WindowLength = length,
            WindowLimit = limit,
            MaxPerPayment = c.MaxPerPayment == 0 ? UInt128.MaxValue : (UInt128)c.MaxPerPayment,
            StepUpThreshold = c.StepUp == 0 ? UInt128.MaxValue : (UInt128)c.StepUp,
            ValidFrom = validFrom,
            ValidUntil = c.ValidFor < 0 ? ulong.MaxValue : validFrom + (ulong)c.ValidFor,
            AllowedPayees = c.Payees switch
            {
                1 => [IdentityTestKit.Payee],
                2 => [IdentityTestKit.Other, IdentityTestKit.Payee],
                3 => [IdentityTestKit.Bank],
                _ => [],
            },
            AllowedLedgers = c.Ledgers switch
            {
                1 => [1u],
                2 => [2u, 1u],
                3 => [2u],
                _ => [],
            },
        };
    }

    private static Arbitrary<Step[]> Scripts()
    {
        Gen<ulong> gap = Gen.Frequency(
            (6, Gen.Choose(1, 40).Select(i => (ulong)i)),
            (3, Gen.Elements(ShortWindow - 1, ShortWindow, ShortWindow + 1, LongWindow - 1, LongWindow)),
            (1, Gen.Choose(41, 6_000).Select(i => (ulong)i)));
        Gen<PolicyChoice> policy =
            from max in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Elements(80, 150)))
            from stepUp in Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Constant(100)))
            from validFrom in Gen.Frequency((4, Gen.Constant(-1)), (1, Gen.Choose(0, 30_000)))
            from validFor in Gen.Frequency((4, Gen.Constant(-1)), (1, Gen.Choose(0, 60_000)))
            from payees in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
            from ledgers in Gen.Frequency((4, Gen.Constant(0)), (1, Gen.Choose(1, 3)))
            select new PolicyChoice(max, stepUp, validFrom, validFor, payees, ledgers);
        Gen<KeyStep> keyStep =
            from kind in Gen.Frequency((5, Gen.Constant(KeyOperationKind.Register)), (3, Gen.Constant(KeyOperationKind.UpdatePolicy)), (1, Gen.Constant(KeyOperationKind.Revoke)))
            from key in Gen.Frequency((9, Gen.Choose(0, 3)), (1, Gen.Constant(4)))
            from account in Gen.Frequency((8, Gen.Constant(0)), (2, Gen.Constant(1)), (1, Gen.Constant(2)))
            from p in policy
            select new KeyStep(kind, key, account, p);
        Gen<OrderStep> order =
            from key in Gen.Frequency((12, Gen.Choose(0, 3)), (1, Gen.Constant(4)))
            from debitOther in Gen.Frequency((9, Gen.Constant(false)), (1, Gen.Constant(true)))
            from payee in Gen.Frequency((8, Gen.Constant(0)), (1, Gen.Choose(1, 2)))
            from ledger in Gen.Frequency((12, Gen.Constant(1u)), (1, Gen.Constant(2u)))
            from amount in Gen.Frequency((6, Gen.Choose(1, 160)), (1, Gen.Elements(80, 81, 100, 101, 120, 121, 150, 151)))
            from expiry in Gen.Frequency((10, Gen.Constant(0)), (1, Gen.Choose(1, 2)))
            from coSigner in Gen.Frequency((5, Gen.Constant(-1)), (2, Gen.Choose(0, 4)))
            from retry in Gen.Frequency((7, Gen.Constant(-1)), (1, Gen.Choose(0, 1_000)))
            select new OrderStep(key, debitOther, payee, ledger, amount, expiry, coSigner, retry);
        Gen<Step> keys = from g in gap from items in Gen.Choose(1, 2).SelectMany(n => Gen.ArrayOf(keyStep, n)) select (Step)new Step.Keys(g, items);
        Gen<Step> orders = from g in gap from items in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(order, n)) select (Step)new Step.Orders(g, items);
        Gen<Step> step = Gen.Frequency((2, keys), (5, orders));

        // Scripts start by registering keys, mostly to the payer, so most orders reach the policy and the ledger.
        Gen<KeyStep> register = from s in keyStep from key in Gen.Choose(0, 3) from account in Gen.Frequency((6, Gen.Constant(0)), (1, Gen.Constant(1))) select s with { Kind = KeyOperationKind.Register, Key = key, Account = account };
        Gen<Step> first = from items in Gen.Choose(2, 4).SelectMany(n => Gen.ArrayOf(register, n)) select (Step)new Step.Keys(1, items);
        return Arb.From(
            from head in first
            from tail in Gen.Choose(0, 39).SelectMany(n => Gen.ArrayOf(step, n))
            select (Step[])[head, .. tail]);
    }

    /// <summary>A policy as small choices (see <see cref="Policy"/>); the window is the key's.</summary>
    internal sealed record PolicyChoice(int MaxPerPayment, int StepUp, int ValidFrom, int ValidFor, int Payees, int Ledgers);

    /// <summary>A key operation on key <see cref="Key"/> (4: never registered); a registration to account 0 payer, 1 other, 2 missing.</summary>
    internal sealed record KeyStep(KeyOperationKind Kind, int Key, int Account, PolicyChoice Policy);

    /// <summary>
    /// An order by key <see cref="Key"/>: payee 0 payee, 1 other, 2 bank; expiry 0 never, 1 exactly at its event's time,
    /// 2 one before; co-signer -1 none; retry -1 a new order, otherwise that earlier order again (modulo their count).
    /// </summary>
    internal sealed record OrderStep(int Key, bool DebitOther, int Payee, uint Ledger, int Amount, int Expiry, int CoSigner, int Retry);

    /// <summary>One step of a script: a batch <see cref="Gap"/> nanoseconds after the previous batch's last event.</summary>
    internal abstract record Step(ulong Gap)
    {
        public sealed record Keys(ulong Gap, KeyStep[] Items) : Step(Gap)
        {
            public override string ToString() => $"Keys {{ Gap = {Gap}, Items = [{string.Join(", ", (IEnumerable<KeyStep>)Items)}] }}";
        }

        public sealed record Orders(ulong Gap, OrderStep[] Items) : Step(Gap)
        {
            public override string ToString() => $"Orders {{ Gap = {Gap}, Items = [{string.Join(", ", (IEnumerable<OrderStep>)Items)}] }}";
        }
    }

    /// <summary>A step made concrete: the operations or signed orders of one ledger batch at <see cref="At"/>.</summary>
    internal sealed record Batch(ulong At, KeyOperation[]? Keys, PaymentOrder[]? Orders);

    /// <summary>Turns steps into signed batches: new order ids, and the orders signed so far for retries.</summary>
    internal sealed class Materializer(ulong start)
    {
        private readonly List<PaymentOrder> _signed = [];
        private ulong _nextId = 1;

        public Batch Materialize(Step step, ulong at)
        {
            if (step is Step.Keys keys)
            {
                return new Batch(at, [.. keys.Items.Select(Operation)], null);
            }

            OrderStep[] items = ((Step.Orders)step).Items;
            var orders = new PaymentOrder[items.Length];
            for (int i = 0; i < items.Length; i++)
            {
                orders[i] = Order(items[i], at + (ulong)i);
            }

            return new Batch(at, null, orders);
        }

        private KeyOperation Operation(KeyStep s) => s.Kind switch
        {
            KeyOperationKind.Register => KeyOperation.RegisterEd25519(
                s.Account switch { 0 => IdentityTestKit.Payer, 1 => IdentityTestKit.Other, _ => Missing }, Keys[s.Key].VerificationKey, Policy(s.Key, s.Policy, start)),
            KeyOperationKind.UpdatePolicy => KeyOperation.UpdatePolicy(KeyIdOf[s.Key], Policy(s.Key, s.Policy, start)),
            _ => KeyOperation.Revoke(KeyIdOf[s.Key]),
        };

        private PaymentOrder Order(OrderStep s, ulong at)
        {
            if (s.Retry >= 0 && _signed.Count != 0)
            {
                return _signed[s.Retry % _signed.Count];
            }

            UInt128 debit = s.DebitOther ? IdentityTestKit.Other : IdentityTestKit.Payer;
            UInt128 payee = s.Payee switch { 1 => IdentityTestKit.Other, 2 => IdentityTestKit.Bank, _ => IdentityTestKit.Payee };
            ulong validUntil = s.Expiry switch { 1 => at, 2 => at - 1, _ => ulong.MaxValue };
            PaymentOrder order = PaymentOrder.Sign(Keys[s.Key], IdentityTestKit.Instance, Tr(_nextId++, debit, payee, (ulong)s.Amount) with { LedgerId = s.Ledger }, validUntil);
            if (s.CoSigner >= 0)
            {
                order = order.WithCoSignature(CoSignature.SignEd25519(Keys[s.CoSigner], order, IdentityTestKit.Instance));
            }

            _signed.Add(order);
            return order;
        }
    }

    /// <summary>
    /// The key registry's and orders' rules restated from their documentation (KeyResult, OrderResult, SpendingPolicy,
    /// IdentityBook's remarks), with the kit's four accounts (only the payer's debits must not exceed its credits), each
    /// event at its own time. The window is computed from the list of accepted payments, not kept as a running sum.
    /// </summary>
    internal sealed class IdentityModel
    {
        public static readonly UInt128[] Accounts = [IdentityTestKit.Bank, IdentityTestKit.Payer, IdentityTestKit.Payee, IdentityTestKit.Other];

        private readonly Dictionary<UInt128, ModelKey> _keys = [];

        // An order id the ledger has seen: true once its transfer was created, false once a transient failure burnt it.
        private readonly Dictionary<UInt128, bool> _usedIds = [];
        private readonly Dictionary<UInt128, BigInteger> _balances;
        private readonly List<(UInt128 KeyId, ulong At, UInt128 Amount)> _accepted = [];

        public IdentityModel(UInt128 funds)
        {
            _balances = new() { [IdentityTestKit.Bank] = -(BigInteger)funds, [IdentityTestKit.Payer] = funds, [IdentityTestKit.Payee] = 0, [IdentityTestKit.Other] = 0 };
        }

        public BigInteger Balance(UInt128 account) => _balances[account];

        public KeyResult Apply(in KeyOperation operation, ulong t)
        {
            bool known = _keys.TryGetValue(operation.KeyId, out ModelKey? key);
            switch (operation.Kind)
            {
                case KeyOperationKind.Register when known:
                    return key!.Revoked ? KeyResult.KeyRevoked
                        : key.Account != operation.AccountId ? KeyResult.ExistsWithDifferentAccount
                        : key.Policy.Equals(operation.Policy) ? KeyResult.Exists
                        : KeyResult.ExistsWithDifferentPolicy;
                case KeyOperationKind.Register:
                    if (!_balances.ContainsKey(operation.AccountId))
                    {
                        return KeyResult.AccountNotFound;
                    }

                    _keys.Add(operation.KeyId, new ModelKey(operation.AccountId) { Policy = operation.Policy! });
                    return KeyResult.Ok;
                case KeyOperationKind.UpdatePolicy:
                    if (!known)
                    {
                        return KeyResult.KeyNotFound;
                    }

                    if (key!.Revoked)
                    {
                        return KeyResult.KeyRevoked;
                    }

                    key.Policy = operation.Policy!;
                    return KeyResult.Ok;
                default:
                    if (!known)
                    {
                        return KeyResult.KeyNotFound;
                    }

                    if (key!.Revoked)
                    {
                        return KeyResult.AlreadyRevoked;
                    }

                    key.Revoked = true;
                    return KeyResult.Ok;
            }
        }

        public OrderResult Execute(in PaymentOrder order, ulong t)
        {
            // A retry gets the ledger's answer for the id (the scripts retry only the very same order).
            if (_usedIds.TryGetValue(order.Id, out bool created))
            {
                return created ? OrderResult.Exists : OrderResult.IdAlreadyFailed;
            }

            if (!_keys.TryGetValue(order.KeyId, out ModelKey? key))
            {
                return OrderResult.KeyNotFound;
            }

            if (key.Revoked)
            {
                return OrderResult.KeyRevoked;
            }

            if (key.Account != order.DebitAccountId)
            {
                return OrderResult.KeyNotOwner;
            }

            if (t > order.ValidUntil)
            {
                return OrderResult.OrderExpired;
            }

            SpendingPolicy policy = key.Policy;
            if (t < policy.ValidFrom)
            {
                return OrderResult.KeyNotYetValid;
            }

            if (t > policy.ValidUntil)
            {
                return OrderResult.KeyExpired;
            }

            if (policy.AllowedLedgers.Count != 0 && !policy.AllowedLedgers.Contains(order.LedgerId))
            {
                return OrderResult.LedgerNotAllowed;
            }

            if (policy.AllowedPayees.Count != 0 && !policy.AllowedPayees.Contains(order.CreditAccountId))
            {
                return OrderResult.PayeeNotAllowed;
            }

            if (order.Amount > policy.MaxPerPayment)
            {
                return OrderResult.OverPaymentLimit;
            }

            if (policy.WindowLength != 0)
            {
                UInt128 keyId = order.KeyId;
                BigInteger spent = _accepted.Where(p => p.KeyId == keyId && t - p.At < policy.WindowLength).Aggregate(BigInteger.Zero, (s, p) => s + p.Amount);
                if (spent + order.Amount > policy.WindowLimit)
                {
                    return OrderResult.OverWindowLimit;
                }
            }

            if (order.CoSignature is not { } coSignature)
            {
                if (order.Amount > policy.StepUpThreshold)
                {
                    return OrderResult.StepUpRequired;
                }
            }
            else
            {
                if (!_keys.TryGetValue(coSignature.KeyId, out ModelKey? coSigner))
                {
                    return OrderResult.CoSignerNotFound;
                }

                if (coSignature.KeyId == order.KeyId)
                {
                    return OrderResult.CoSignerIsSigner;
                }

                if (coSigner.Account != key.Account)
                {
                    return OrderResult.CoSignerNotOwner;
                }

                if (coSigner.Revoked)
                {
                    return OrderResult.CoSignerRevoked;
                }

                if (t < coSigner.Policy.ValidFrom || t > coSigner.Policy.ValidUntil)
                {
                    return OrderResult.CoSignerNotValid;
                }
            }

            // The ledger's transfer checks that these scripts can reach, in its order; only the payer's balance is limited.
            if (order.DebitAccountId == order.CreditAccountId)
            {
                return OrderResult.AccountsMustBeDifferent;
            }

            if (order.LedgerId != 1)
            {
                return OrderResult.TransferMustHaveTheSameLedgerAsAccounts;
            }

            if (order.DebitAccountId == IdentityTestKit.Payer && _balances[IdentityTestKit.Payer] < order.Amount)
            {
                _usedIds[order.Id] = false;
                return OrderResult.ExceedsCredits;
            }

            _usedIds[order.Id] = true;
            _balances[order.DebitAccountId] -= order.Amount;
            _balances[order.CreditAccountId] += order.Amount;
            _accepted.Add((order.KeyId, t, order.Amount));
            return OrderResult.Ok;
        }

        /// <summary>Whether the ledger's keys differ from the model's (account, status, policy), or null.</summary>
        public string? KeysBreak(LedgerStateMachine ledger)
        {
            IReadOnlyList<KeyState> all = IdentityBook.Find(ledger)?.All ?? [];
            if (all.Count != _keys.Count)
            {
                return $"the ledger has {all.Count} keys, the model {_keys.Count}";
            }

            foreach (KeyState state in all)
            {
                if (!_keys.TryGetValue(state.KeyId, out ModelKey? key) || key.Account != state.AccountId ||
                    key.Revoked != (state.Status == KeyStatus.Revoked) || !key.Policy.Equals(state.Policy))
                {
                    return string.Create(CultureInfo.InvariantCulture, $"key {state.KeyId:X32}: ledger {state.AccountId} {state.Status} {state.Policy}, model {key?.Account} revoked {key?.Revoked} {key?.Policy}");
                }
            }

            return null;
        }

        private sealed class ModelKey(UInt128 account)
        {
            public UInt128 Account { get; } = account;

            public required SpendingPolicy Policy { get; set; }

            public bool Revoked { get; set; }
        }
    }
}
