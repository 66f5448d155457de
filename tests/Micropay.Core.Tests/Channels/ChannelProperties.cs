using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Channels;

namespace Micropay.Core.Tests.Channels;

/// <summary>
/// Channel invariants over random scripts of redemptions (several lanes, retries, stale and expired vouchers), top-ups,
/// closes and clock jumps, checked against <see cref="ChannelModel"/> (the rules restated independently) after every
/// step: the same result for every event, the same balances; the payee holds exactly the sum over lanes of the best
/// cumulative amount redeemed; the escrow never goes negative; payer + payee + escrow never changes.
/// </summary>
public sealed class ChannelProperties
{
    private const ulong Funds = 10_000;
    private const ulong Deposit = 1_000;
    private const ulong Lifetime = 2_000;
    private const ulong SettleDelay = 150;

    [Property(MaxTest = 200)]
    public Property Script_EveryStep_AgreesWithTheModelAndConservesMoney() =>
        Prop.ForAll(Scripts(), script => Run(script) is null ? true : throw new InvalidOperationException(Run(script) + "\nscript: " + string.Join(", ", script)));

    [Property(MaxTest = 100)]
    public Property Script_RestoredFromASnapshotHalfway_GivesTheSameResultsAndState() =>
        Prop.ForAll(Scripts(), Gen.Choose(0, 40).ToArbitrary(), (script, cut) =>
        {
            using var original = new ChannelTestKit(payerFunds: Funds);
            ulong time = original.Now + 1;
            ChannelConfig config = original.Cumulative(expiresAt: time + Lifetime, settleDelay: SettleDelay);
            original.SetNextTimestamp(time);
            Assert.Equal(ChannelResult.Ok, original.Open(config, Deposit));
            ChannelTestKit? restored = null;
            try
            {
                for (int i = 0; i < script.Length; i++)
                {
                    if (i == Math.Min(cut, script.Length - 1))
                    {
                        restored = original.Restored();
                    }

                    time += 1 + script[i].Wait;
                    string a = Describe(original, config, script[i], time);
                    string b = restored is null ? a : Describe(restored, config, script[i], time);
                    if (a != b)
                    {
                        throw new InvalidOperationException($"step {i} ({script[i]}): original {a}, restored {b}");
                    }
                }

                return true;
            }
            finally
            {
                restored?.Dispose();
            }
        });

    /// <summary>Applies a step and describes what it did: its results and the three balances.</summary>
    private static string Describe(ChannelTestKit kit, ChannelConfig config, Step step, ulong time)
    {
        kit.SetNextTimestamp(time);
        string results = step switch
        {
            Step.Redeem r => kit.Redeem(kit.Voucher(config, r.Lane, r.Sequence, r.Cumulative, validUntil: time + r.ValidFor)).ToString(),
            Step.RedeemBatch b => string.Join("/", kit.RedeemMany([.. b.Items.Select(r => kit.Voucher(config, r.Lane, r.Sequence, r.Cumulative, validUntil: time + r.ValidFor))])),
            Step.TopUp t => kit.TopUp(t.Id, config, t.Amount).ToString(),
            Step.Close { Cooperative: true } => kit.Close(ChannelClose.Cooperative(config.Id)).ToString(),
            Step.Close => kit.CloseUnilaterally(config).ToString(),
            _ => Pulse(kit).ToString(),
        };
        return $"{results}; payer {kit.Balance(ChannelTestKit.Payer)}, payee {kit.Balance(ChannelTestKit.Payee)}, escrow {kit.Balance(config.Id)}, last {kit.Ledger.LastTimestamp}";
    }

    /// <summary>Runs a script; returns the first disagreement, or null.</summary>
    internal static string? Run(IReadOnlyList<Step> script)
    {
        using var kit = new ChannelTestKit(payerFunds: Funds);
        ulong time = kit.Now + 1;
        ChannelConfig config = kit.Cumulative(expiresAt: time + Lifetime, settleDelay: SettleDelay);
        kit.SetNextTimestamp(time);
        if (kit.Open(config, Deposit) != ChannelResult.Ok)
        {
            return "the open failed";
        }

        var model = new ChannelModel(Deposit, expiresAt: time + Lifetime, SettleDelay, lastTimestamp: kit.Now);
        for (int i = 0; i < script.Count; i++)
        {
            Step step = script[i];
            time += 1 + step.Wait;
            kit.SetNextTimestamp(time);
            ChannelResult expected = model.Apply(step, time);
            ChannelResult actual = step switch
            {
                Step.Redeem r => kit.Redeem(kit.Voucher(config, r.Lane, r.Sequence, r.Cumulative, validUntil: time + r.ValidFor)),
                Step.RedeemBatch b => RedeemTogether(kit, config, b, time, model),
                Step.TopUp t => kit.TopUp(t.Id, config, t.Amount),
                Step.Close { Cooperative: true } => kit.Close(ChannelClose.Cooperative(config.Id)),
                Step.Close => kit.CloseUnilaterally(config),
                _ => Pulse(kit),
            };

            if (actual != expected)
            {
                return $"step {i} ({step}): ledger {actual}, model {expected}";
            }

            UInt128 payee = kit.Balance(ChannelTestKit.Payee);
            UInt128 escrow = kit.Balance(config.Id);
            UInt128 payer = kit.Balance(ChannelTestKit.Payer);
            if (payee != model.Paid || payee != model.SumOfBestPerLane || escrow != model.Escrow || payer != Funds - model.Deposit + model.Refunded)
            {
                return $"step {i} ({step}): payee {payee}, escrow {escrow}, payer {payer}; model paid {model.Paid}, escrow {model.Escrow}, refunded {model.Refunded}";
            }

            if (payer + payee + escrow != Funds)
            {
                return $"step {i}: payer + payee + escrow = {payer + payee + escrow}, not {Funds}";
            }
        }

        return null;
    }

    /// <summary>Redeems a batch's vouchers in one ledger batch, compares every result with the model's, and returns the first refusal (as the model does).</summary>
    private static ChannelResult RedeemTogether(ChannelTestKit kit, ChannelConfig config, Step.RedeemBatch batch, ulong time, ChannelModel model)
    {
        Voucher[] vouchers = [.. batch.Items.Select(r => kit.Voucher(config, r.Lane, r.Sequence, r.Cumulative, validUntil: time + r.ValidFor))];
        ChannelResult[] actual = kit.RedeemMany(vouchers);
        if (!actual.SequenceEqual(model.LastBatchResults))
        {
            throw new InvalidOperationException($"{batch}: ledger [{string.Join(", ", actual)}], model [{string.Join(", ", model.LastBatchResults)}]");
        }

        return actual.FirstOrDefault(r => r != ChannelResult.Ok);
    }

    private static ChannelResult Pulse(ChannelTestKit kit)
    {
        kit.Pulse();
        return ChannelResult.Ok;
    }

    private static Arbitrary<Step[]> Scripts()
    {
        Gen<ulong> wait = Gen.Frequency((8, Gen.Constant(0UL)), (3, Gen.Choose(1, 200).Select(i => (ulong)i)), (1, Gen.Choose(200, 1_500).Select(i => (ulong)i)));
        Gen<Step> redeem =
            from w in wait
            from lane in Gen.Choose(0, 2)
            from sequence in Gen.Choose(1, 12)
            from cumulative in Gen.Choose(1, 600)
            from validFor in Gen.Frequency((6, Gen.Constant(1_000)), (1, Gen.Choose(0, 3)))
            select (Step)new Step.Redeem(w, (uint)lane, (ulong)sequence, (ulong)cumulative, (ulong)validFor);
        Gen<Step> topUp =
            from w in wait
            from id in Gen.Choose(1, 4)
            from amount in Gen.Frequency((6, Gen.Choose(1, 500)), (1, Gen.Constant(0)), (1, Gen.Constant(20_000)))
            select (Step)new Step.TopUp(w, (ulong)id, (ulong)amount);
        Gen<Step> close = from w in wait from cooperative in Gen.Frequency((1, Gen.Constant(true)), (2, Gen.Constant(false))) select (Step)new Step.Close(w, cooperative);
        Gen<Step> pulse = from w in wait select (Step)new Step.Pulse(w);
        Gen<Step> together =
            from w in wait
            from items in Gen.Choose(2, 4).SelectMany(n => Gen.ArrayOf(redeem.Select(r => (Step.Redeem)r), n))
            select (Step)new Step.RedeemBatch(w, items);
        Gen<Step> step = Gen.Frequency((12, redeem), (3, together), (2, topUp), (1, close), (2, pulse));
        return Arb.From(Gen.Choose(1, 40).SelectMany(n => Gen.ArrayOf(step, n)));
    }

    /// <summary>One step of a script, after waiting <see cref="Wait"/> nanoseconds of ledger time.</summary>
    internal abstract record Step(ulong Wait)
    {
        public sealed record Redeem(ulong Wait, uint Lane, ulong Sequence, ulong Cumulative, ulong ValidFor) : Step(Wait);

        public sealed record TopUp(ulong Wait, ulong Id, ulong Amount) : Step(Wait);

        public sealed record Close(ulong Wait, bool Cooperative) : Step(Wait);

        public sealed record Pulse(ulong Wait) : Step(Wait);

        /// <summary>Several redemptions in one ledger batch (their own waits are ignored): events at start, start + 1, ...</summary>
        public sealed record RedeemBatch(ulong Wait, Redeem[] Items) : Step(Wait)
        {
            public override string ToString() => $"RedeemBatch {{ Wait = {Wait}, Items = [{string.Join(", ", (IEnumerable<Redeem>)Items)}] }}";
        }
    }

    /// <summary>
    /// One channel's rules restated from their documentation (ChannelResult, LedgerEngine's channel methods), with
    /// the ledger's clock: a batch starts at max(t, last + 1), fires due deadlines first (a refund takes that
    /// timestamp and moves the batch's event one later), then applies its event.
    /// </summary>
    internal sealed class ChannelModel(ulong deposit, ulong expiresAt, ulong settleDelay, ulong lastTimestamp)
    {
        private readonly Dictionary<uint, (ulong Sequence, ulong Cumulative)> _lanes = [];
        private readonly HashSet<(uint, ulong)> _redeemed = [];
        private readonly Dictionary<ulong, ulong> _topUps = [];
        private ulong _last = lastTimestamp;
        private bool _closed;
        private bool _closing;
        private ulong _closeDeadline;
        private ulong _closedAt;

        public ulong Deposit { get; private set; } = deposit;

        public ulong Paid { get; private set; }

        public ulong Refunded { get; private set; }

        public ulong Escrow => Deposit - Paid - Refunded;

        /// <summary>The results of the last <see cref="Step.RedeemBatch"/>, one per voucher.</summary>
        public List<ChannelResult> LastBatchResults { get; } = [];

        public ulong SumOfBestPerLane => _lanes.Values.Aggregate(0UL, (sum, lane) => sum + lane.Cumulative);

        public ChannelResult Apply(Step step, ulong time)
        {
            ulong t = Math.Max(time, _last + 1);
            if (!_closed && (t >= expiresAt || (_closing && t >= _closeDeadline)))
            {
                CloseAt(t);
                t++;
            }

            _last = t;
            if (step is Step.RedeemBatch batch)
            {
                LastBatchResults.Clear();
                for (int i = 0; i < batch.Items.Length; i++)
                {
                    LastBatchResults.Add(Redeem(batch.Items[i], t + (ulong)i, validUntil: time + batch.Items[i].ValidFor));
                }

                _last = t + (ulong)batch.Items.Length - 1;
                return LastBatchResults.FirstOrDefault(r => r != ChannelResult.Ok);
            }

            return step switch
            {
                Step.Redeem r => Redeem(r, t, validUntil: time + r.ValidFor),
                Step.TopUp u => TopUp(u, t),
                Step.Close c => Close(c, t),
                _ => ChannelResult.Ok,
            };
        }

        private ChannelResult Redeem(Step.Redeem r, ulong t, ulong validUntil)
        {
            if (_redeemed.Contains((r.Lane, r.Sequence)))
            {
                return ChannelResult.AlreadyRedeemed;
            }

            if (Usable(t) is { } refused)
            {
                return refused;
            }

            // The voucher was signed valid until its step's time + ValidFor; the event may run later than its step's time.
            if (t > validUntil)
            {
                return ChannelResult.VoucherExpired;
            }

            (ulong sequence, ulong cumulative) = _lanes.GetValueOrDefault(r.Lane);
            if (r.Sequence <= sequence)
            {
                return ChannelResult.SequenceNotIncreasing;
            }

            if (r.Cumulative <= cumulative)
            {
                return ChannelResult.AmountNotIncreasing;
            }

            if (r.Cumulative - cumulative > Escrow)
            {
                return ChannelResult.ExceedsDeposit;
            }

            Paid += r.Cumulative - cumulative;
            _lanes[r.Lane] = (r.Sequence, r.Cumulative);
            _redeemed.Add((r.Lane, r.Sequence));
            return ChannelResult.Ok;
        }

        private ChannelResult TopUp(Step.TopUp u, ulong t)
        {
            if (_topUps.TryGetValue(u.Id, out ulong amount))
            {
                return amount == u.Amount ? ChannelResult.Exists : ChannelResult.ExistsWithDifferentFields;
            }

            if (Usable(t) is { } refused)
            {
                return refused;
            }

            if (_closing)
            {
                return ChannelResult.ChannelClosing;
            }

            if (u.Amount == 0)
            {
                return ChannelResult.AmountMustNotBeZero;
            }

            if (u.Amount > Funds - Deposit + Refunded)
            {
                return ChannelResult.InsufficientFunds;
            }

            Deposit += u.Amount;
            _topUps[u.Id] = u.Amount;
            return ChannelResult.Ok;
        }

        private ChannelResult Close(Step.Close c, ulong t)
        {
            if (Usable(t) is { } refused)
            {
                return refused;
            }

            if (c.Cooperative)
            {
                CloseAt(t);
                return ChannelResult.Ok;
            }

            if (_closing)
            {
                return ChannelResult.ChannelClosing;
            }

            _closing = true;
            _closeDeadline = t + settleDelay;
            return ChannelResult.Ok;
        }

        private ChannelResult? Usable(ulong t)
        {
            if (_closed)
            {
                return _closedAt >= expiresAt ? ChannelResult.ChannelExpired : ChannelResult.ChannelClosed;
            }

            if (t >= expiresAt)
            {
                return ChannelResult.ChannelExpired;
            }

            return _closing && t >= _closeDeadline ? ChannelResult.ChannelClosed : null;
        }

        private void CloseAt(ulong t)
        {
            Refunded += Escrow;
            _closed = true;
            _closedAt = t;
        }
    }
}
