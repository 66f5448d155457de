using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Tests;

namespace Micropay.Core.Simulation;

/// <summary>What a run submits.</summary>
public enum SimulatedWorkload
{
    /// <summary>Accounts, transfers (single, two-phase, linked, balancing), one device key and its signed orders; checked against <see cref="Tests.Ledger.ReferenceLedger"/>.</summary>
    Ledger,

    /// <summary>
    /// All of <see cref="Ledger"/>, plus channels (cumulative and hash-chain opens, vouchers alone and in batches, ticks,
    /// top-ups, cooperative and unilateral closes, expiries), key policy updates and revocations, and on the file store
    /// the audit log; checked against a shadow ledger fed the acknowledged operations through the edge's checks and the
    /// operations' rules, and by the offline audit verifier after every clean shutdown.
    /// </summary>
    Full,
}

// The full workload: its steps, its oracle (a shadow LedgerStateMachine) and the audit check.
public sealed partial class Simulator
{
    private const string AuditDirectory = "/simulated/audit";

    // Fixed keys so a seed reproduces its bytes: the operator's (checkpoints, certificates) and an attacker's (signatures
    // that must fail at the edge).
    private static readonly byte[] OperatorSeed = Convert.FromHexString("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    private static readonly byte[] AttackerSeed = Convert.FromHexString("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7");
    private static readonly SpendingPolicy FirstPolicy = new() { WindowLimit = 600, WindowLength = 60 * Second, MaxChannelDeposit = 2_000 };

    private readonly SigningKey _operator = SigningKey.Import(OperatorSeed, SigningKeyFormat.RawSeed);
    private readonly SigningKey _attacker = SigningKey.Import(AttackerSeed, SigningKeyFormat.RawSeed);
    private readonly List<SimulatedChannel> _channels = [];
    private readonly HashSet<UInt128> _topUpIds = [];
    private readonly HashSet<UInt128> _refundsRefused = [];
    private LedgerStateMachine _shadow = new();
    private UInt128 _instanceId;
    private ulong _genesisTimestamp;
    private NoteVerifierKey? _auditKey;

    private bool Full => _settings.Workload == SimulatedWorkload.Full;

    private bool Audited => Full && _settings.Store == SimulatedStore.File;

    // The channels' payer key on account 1: the device key until a revocation, then a new one per revocation.
    private SigningKey? _payer;
    private int _payerGeneration;

    private SigningKey Payer => _payer ??= _device;

    private UInt128 PayerKeyId => KeyIds.Of(Payer.VerificationKey);

    /// <summary>The engine's options for every open of this run (the same each time, as an operator's would be).</summary>
    private LedgerEngineOptions EngineOptions() => new()
    {
        Store = NewStore(),
        Durability = DurabilityMode.Durable,
        TimeProvider = _clock,
        ClockPulses = false,
        InstanceId = Full ? _instanceId : null,
        AccountHistory = Full,
        OperatorKey = Full ? _operator : null,

        // Checkpoints every few batches, never by wall time (the simulated clock owns time; a timer would not replay).
        Audit = Audited ? new AuditOptions { Directory = AuditDirectory, FileSystem = _files, CheckpointEveryBatches = 3, CheckpointInterval = TimeSpan.Zero } : null,
    };

    /// <summary>After the first open: the shadow starts from the same genesis (the instance id at the genesis batch's timestamp).</summary>
    private void StartShadow(LedgerEngine engine)
    {
        _genesisTimestamp = engine.WriterLedgerWhileIdle.LastTimestamp;
        _auditKey = engine.AuditVerifierKey;
        _shadow = NewShadow();
    }

    private LedgerStateMachine NewShadow()
    {
        var ledger = new LedgerStateMachine();
        ledger.EnableAccountHistory();
        var result = new InstanceIdResult[1];
        OperationRegistry.SetInstanceId.Apply(ledger, _genesisTimestamp, [new InstanceIdRecord(_instanceId)], result);
        return result[0] == InstanceIdResult.Ok ? ledger : throw Fail($"the shadow's genesis failed: {result[0]}");
    }

    /// <summary>The shadow fed every known operation again (after a recovery changed what is known).</summary>
    private void RebuildShadow()
    {
        _shadow = NewShadow();
        foreach (Step step in _known.Where(step => step.Batches == 1))
        {
            if (!ApplyToShadow(_shadow, step).Batch)
            {
                throw Fail($"{step} made a batch in the engine, but the edge's checks refuse it in the shadow");
            }
        }
    }

    /// <summary>
    /// Applies a step to a shadow ledger as the engine does: the edge's checks against the shadow's keys and channels
    /// (refused events never reach the ledger; a step whose events are all refused makes no batch), then the operation's
    /// rules at the step's clock reading. Renders the results as <see cref="SubmitAsync"/> renders the engine's.
    /// </summary>
    private (string Rendering, bool Batch) ApplyToShadow(LedgerStateMachine ledger, Step step)
    {
        if (step.Custom is { } custom)
        {
            return custom.Shadow(ledger, step.Clock);
        }

        if (step.Order is { } order)
        {
            OrderResult edge = EdgeVerification.VerifyOrder(order, _instanceId, new BookKeyLookup(IdentityBook.Find(ledger)));
            (string rendering, bool batch) = ShadowBatch(ledger, step.Clock, OperationRegistry.ExecuteOrders, [order], [edge]);
            return ($"order {rendering}", batch);
        }

        if (step.Accounts is { } accounts)
        {
            (string rendering, bool batch) = ShadowBatch(ledger, step.Clock, OperationRegistry.CreateAccounts, accounts, new CreateAccountResult[accounts.Length]);
            return (accounts.Length == 1 ? $"0: {rendering}" : rendering, batch);
        }

        Transfer[] transfers = step.Transfers!;
        (string transferRendering, bool transferBatch) = ShadowBatch(ledger, step.Clock, OperationRegistry.CreateTransfers, transfers, new CreateTransferResult[transfers.Length]);
        return (transfers.Length == 1 ? $"0: {transferRendering}" : transferRendering, transferBatch);
    }

    /// <summary>Applies the events the edge passed (their edge result is Ok) as one batch, and merges the results as the engine does.</summary>
    private static (string Rendering, bool Batch) ShadowBatch<TEvent, TResult>(
        LedgerStateMachine ledger, ulong timestamp, Operation<TEvent, TResult> operation, TEvent[] events, TResult[] edge)
        where TEvent : struct
        where TResult : unmanaged, Enum
    {
        TEvent[] passed = [.. events.Where((_, i) => IsOk(edge[i]))];
        TResult[] results = [.. edge];
        if (passed.Length > 0)
        {
            var passedResults = new TResult[passed.Length];
            _ = operation.Apply(ledger, timestamp, passed, passedResults);
            int n = 0;
            for (int i = 0; i < results.Length; i++)
            {
                if (IsOk(edge[i]))
                {
                    results[i] = passedResults[n++];
                }
            }
        }

        return (Render(results), passed.Length > 0);
    }

    private static bool IsOk<TResult>(TResult result)
        where TResult : unmanaged, Enum => EqualityComparer<TResult>.Default.Equals(result, default);

    /// <summary>One result as its name; several as "failed: r1, r2, ...".</summary>
    private static string Render<TResult>(TResult[] results)
        where TResult : unmanaged, Enum =>
        results.Length == 1 ? results[0].ToString() : $"{results.Count(r => !IsOk(r))}: {string.Join(", ", results)}";

    /// <summary>A step of the full workload (snapshots are drawn by the caller, dice 0-7).</summary>
    private Step NewFullStep(LedgerEngine engine, int dice) => PayerShort() && _random.Next(3) == 0 ? NewFundingStep() : dice switch
    {
        < 14 => NewAccountsStep(),
        < 18 => NewKeyStep(),
        < 26 => NewOrderStep(engine),
        < 44 => NewTransfersStep(),
        < 52 => NewOpenStep(),
        < 74 => NewVouchersStep(),
        < 82 => NewTickStep(),
        < 88 => NewTopUpStep(),
        _ => NewCloseStep(),
    };

    /// <summary>Whether the channels' payer (account 1) lacks an account, or funds for a few deposits.</summary>
    private bool PayerShort() =>
        !_shadow.TryGetAccount(1, out Account payer) || !_shadow.TryGetAccount(2, out _) || payer.CreditsPosted < payer.DebitsPosted + 1_000;

    /// <summary>Creates the payer and its funder (plain accounts) if missing, else moves funds from account 2 to the payer.</summary>
    private Step NewFundingStep()
    {
        if (!_shadow.TryGetAccount(1, out _) || !_shadow.TryGetAccount(2, out _))
        {
            return new Step(_clock.Nanoseconds, [new Account { Id = 1, LedgerId = 1, Code = 1 }, new Account { Id = 2, LedgerId = 1, Code = 1 }], null);
        }

        UInt128 id = _nextTransferId++;
        _submittedTransferIds.Add(id);
        return new Step(_clock.Nanoseconds, null, [new Transfer { Id = id, DebitAccountId = 2, CreditAccountId = 1, Amount = (UInt128)_random.Next(1_000, 5_000), LedgerId = 1, Code = 1 }]);
    }

    private Step Custom(string label, Func<LedgerEngine, Task<string>> submit, Func<LedgerStateMachine, ulong, (string, bool)> shadow) =>
        new(_clock.Nanoseconds, null, null, Custom: new CustomStep(label, submit, shadow));

    /// <summary>The device key on account 1: registered, its policy changed, or revoked (which begins the close of its channels).</summary>
    private Step NewKeyStep()
    {
        _counters.KeyChanges++;
        bool registered = IdentityBook.Find(_shadow) is { } book && book.TryGet(PayerKeyId, out _);
        KeyOperation operation;
        if (!registered || _random.Next(6) == 0)
        {
            operation = KeyOperation.RegisterEd25519(1, Payer.VerificationKey, FirstPolicy);
        }
        else if (_random.Next(8) == 0)
        {
            // The stolen-device path: revoking the key begins the close of every channel it funds. Later channels use a
            // new key, registered by a later key step (until then account 1's opens fail KeyNotFound).
            operation = KeyOperation.Revoke(PayerKeyId);
            byte[] seed = System.Security.Cryptography.SHA256.HashData([.. DeviceSeed, (byte)++_payerGeneration]);
            _payer = SigningKey.Import(seed, SigningKeyFormat.RawSeed);
        }
        else
        {
            var policy = new SpendingPolicy
            {
                WindowLimit = (UInt128)_random.Next(100, 2_000),
                WindowLength = (ulong)_random.Next(10, 120) * Second,
                MaxChannelDeposit = (UInt128)_random.Next(100, 3_000),
            };
            operation = KeyOperation.UpdatePolicy(PayerKeyId, policy);
        }

        return Custom(
            $"key {operation}",
            async engine => $"key {await engine.ManageKeyAsync(operation)}",
            (ledger, clock) =>
            {
                (string rendering, bool batch) = ShadowBatch(ledger, clock, OperationRegistry.ManageKeys, [operation], new KeyResult[1]);
                return ($"key {rendering}", batch);
            });
    }

    /// <summary>A channel from account 1 (the device key's) to another account: cumulative, or a hash chain one time in four.</summary>
    private Step NewOpenStep()
    {
        ulong now = _clock.Nanoseconds;
        UInt128[] payees = [.. _shadow.Accounts.ToArray().Where(a => a.Id != 1 && a.LedgerId == 1 && a.Id <= AccountCount).Select(a => a.Id)];
        UInt128 payee = payees.Length > 0 && _random.Next(10) != 0 ? payees[_random.Next(payees.Length)] : (UInt128)_random.Next(2, AccountCount + 1);
        ulong expiresAt = now + ((ulong)_random.Next(5, 240) * Second);
        ulong settleDelay = (ulong)_random.Next(1, 30) * Second;
        UInt128 salt = (UInt128)_channels.Count;
        SimulatedChannel channel;
        if (_random.Next(4) == 0)
        {
            byte[] seed = new byte[32];
            _random.NextBytes(seed);
            uint length = (uint)_random.Next(8, 64);
            byte[] root = new byte[32];
            HashChain.ComputeRoot(seed, length, root);
            ChannelConfig config = ChannelConfig.CreateHashChain(_instanceId, 1, payee, 1, Payer.VerificationKey, expiresAt, settleDelay, salt, root, (UInt128)_random.Next(1, 6), length);
            channel = new SimulatedChannel(_channels.Count, config, Payer, seed);
        }
        else
        {
            channel = new SimulatedChannel(_channels.Count, ChannelConfig.CreateCumulative(_instanceId, 1, payee, 1, Payer.VerificationKey, expiresAt, settleDelay, salt), Payer, null);
        }

        _channels.Add(channel);
        UInt128 deposit = (UInt128)_random.Next(1, 800);
        bool forged = _random.Next(15) == 0;
        ChannelOpenRequest request = ChannelOpenRequest.Sign(channel.Key, channel.Config, deposit);
        if (forged)
        {
            // One bit of the signature (the encoding's last bytes) flipped: the edge must refuse it.
            byte[] bytes = new byte[request.EncodedSize];
            request.Encode(bytes);
            bytes[bytes.Length - 1 - _random.Next(32)] ^= (byte)(1 << _random.Next(8));
            request = ChannelOpenRequest.TryParse(bytes, out ChannelOpenRequest parsed, out _) ? parsed : throw Fail("a forged open request did not parse");
        }

        return Custom(
            $"open {(channel.ChainSeed is null ? "cumulative" : "hash chain")} channel {channel.Number} 1->{payee} deposit {deposit}{(forged ? " (forged)" : string.Empty)}",
            async engine => Render([await engine.OpenChannelAsync(request)]),
            (ledger, clock) => ShadowBatch(ledger, clock, OperationRegistry.OpenChannels, [request], [EdgeVerification.VerifyOpen(request, _instanceId, new BookKeyLookup(IdentityBook.Find(ledger)))]));
    }

    /// <summary>Vouchers on cumulative channels, alone or 2-4 in one batch: mostly increasing, some stale, expired, replayed or forged.</summary>
    private Step NewVouchersStep()
    {
        if (PickChannel(chain: false) is null && _random.Next(4) != 0)
        {
            return NewOpenStep();
        }

        int count = _random.Next(4) == 0 ? _random.Next(2, 5) : 1;
        var vouchers = new Voucher[count];
        var labels = new string[count];
        for (int i = 0; i < count; i++)
        {
            SimulatedChannel? channel = PickChannel(chain: false);
            UInt128 channelId = channel?.Config.Id ?? (UInt128)0xdead;
            uint lane = (uint)_random.Next(3);
            (ulong Sequence, ulong Cumulative) last = channel is not null && channel.Lanes.TryGetValue(lane, out var signed) ? signed : (0UL, 0UL);
            (ulong sequence, ulong cumulative) = last;
            if (_random.Next(6) != 0 || sequence == 0)
            {
                sequence += (ulong)_random.Next(1, 3);
                cumulative = Math.Max(1, cumulative + (ulong)_random.Next(_random.Next(8) == 0 ? 0 : 1, 80));
            }

            if (channel is not null)
            {
                channel.Lanes[lane] = (Math.Max(sequence, last.Sequence), Math.Max(cumulative, last.Cumulative));
            }

            ulong validUntil = _random.Next(12) == 0 ? _clock.Nanoseconds - Second : _clock.Nanoseconds + ((ulong)_random.Next(1, 120) * Second);
            bool forged = _random.Next(15) == 0;
            vouchers[i] = Voucher.Sign(forged || channel is null ? _attacker : channel.Key, _instanceId, channelId, lane, sequence, cumulative, validUntil);
            labels[i] = $"channel {channel?.Number.ToString() ?? "none"} lane {lane} #{sequence} {cumulative}{(forged ? " (forged)" : string.Empty)}";
        }

        return Custom(
            $"vouchers [{string.Join(", ", labels)}]",
            async engine =>
            {
                if (vouchers.Length == 1)
                {
                    return Render([await engine.RedeemVoucherAsync(vouchers[0])]);
                }

                var results = new ChannelResult[vouchers.Length];
                _ = await engine.RedeemVouchersAsync(vouchers, results);
                return Render(results);
            },
            (ledger, clock) =>
            {
                var channels = new BookChannelLookup(ChannelBook.Find(ledger));
                ChannelResult[] edge = [.. vouchers.Select(v => EdgeVerification.VerifyVoucher(v, _instanceId, channels))];
                return ShadowBatch(ledger, clock, OperationRegistry.RedeemVouchers, [.. vouchers.Select(v => VoucherRedemption.Of(v))], edge);
            });
    }

    /// <summary>A tick on a hash-chain channel: mostly the next few units, some replayed or with a wrong word.</summary>
    private Step NewTickStep()
    {
        SimulatedChannel? channel = PickChannel(chain: true);
        if (channel is null)
        {
            return NewOpenStep();
        }

        uint length = channel.Config.ChainLength;
        uint index = (uint)Math.Clamp((long)channel.NextTick + _random.Next(0, 4), 1, length);
        channel.NextTick = Math.Max(channel.NextTick, index);
        Tick tick;
        bool forged = _random.Next(12) == 0;
        if (forged)
        {
            byte[] word = new byte[32];
            _random.NextBytes(word);
            tick = new Tick(channel.Config.Id, index, word);
        }
        else
        {
            using HashChainWallet wallet = HashChainWallet.FromSeed(channel.ChainSeed, length, spent: index - 1);
            tick = wallet.NextTick(channel.Config.Id);
        }

        return Custom(
            $"tick channel {channel.Number} index {index}{(forged ? " (wrong word)" : string.Empty)}",
            async engine => Render([await engine.RedeemTickAsync(tick)]),
            (ledger, clock) => ShadowBatch(ledger, clock, OperationRegistry.RedeemTicks, [tick], [EdgeVerification.VerifyTick(tick, new BookChannelLookup(ChannelBook.Find(ledger)))]));
    }

    private Step NewTopUpStep()
    {
        SimulatedChannel? channel = PickChannel(chain: null);
        UInt128 id = _nextTransferId++;
        _submittedTransferIds.Add(id);
        _topUpIds.Add(id);
        var topUp = new ChannelTopUp(id, channel?.Config.Id ?? (UInt128)0xdead, (UInt128)_random.Next(0, 400));
        return Custom(
            $"top-up {id} of channel {channel?.Number.ToString() ?? "none"} by {topUp.Amount}",
            async engine => Render([await engine.TopUpChannelAsync(topUp)]),
            (ledger, clock) => ShadowBatch(ledger, clock, OperationRegistry.TopUpChannels, [topUp], new ChannelResult[1]));
    }

    private Step NewCloseStep()
    {
        SimulatedChannel? channel = PickChannel(chain: null);
        if (channel is null)
        {
            return NewOpenStep();
        }

        bool cooperative = _random.Next(3) == 0;
        bool forged = !cooperative && _random.Next(10) == 0;
        ChannelClose close = cooperative ? ChannelClose.Cooperative(channel.Config.Id) : ChannelClose.Unilateral(forged ? _attacker : channel.Key, _instanceId, channel.Config.Id);
        return Custom(
            $"{(cooperative ? "cooperative" : "unilateral")} close of channel {channel.Number}{(forged ? " (forged)" : string.Empty)}",
            async engine => Render([await engine.CloseChannelAsync(close)]),
            (ledger, clock) => ShadowBatch(ledger, clock, OperationRegistry.CloseChannels, [close], [EdgeVerification.VerifyClose(close, _instanceId, new BookChannelLookup(ChannelBook.Find(ledger)))]));
    }

    /// <summary>A channel of the wanted mode (any when null), mostly one the shadow has open, among the newest; null when there is none.</summary>
    private SimulatedChannel? PickChannel(bool? chain)
    {
        bool open = _random.Next(8) != 0;
        List<SimulatedChannel> candidates = [.. _channels.Where(c => (chain is null || (c.ChainSeed is not null) == chain) &&
            (!open || (ChannelBook.Find(_shadow) is { } book && book.TryGet(c.Config.Id, out ChannelState state) && state.Status != ChannelStatus.Closed)))];
        return candidates.Count == 0 ? null : candidates[Math.Max(0, candidates.Count - 1 - _random.Next(Math.Min(candidates.Count, 4)))];
    }

    /// <summary>
    /// The engine against the shadow: the writer's whole state (ledger, instance, channels, keys: every snapshot section)
    /// byte for byte, then what readers see (accounts, transfers, account histories, channels, lanes, keys) and the
    /// invariants (conservation; each channel's escrow covers what it paid out; a closed channel holds nothing).
    /// </summary>
    private void CheckShadowState(LedgerEngine engine, string when, bool full)
    {
        (string Name, byte[] Bytes)[] mine = LedgerEngine.StateSectionBytes(engine.WriterLedgerWhileIdle);
        (string Name, byte[] Bytes)[] shadow = LedgerEngine.StateSectionBytes(_shadow);
        foreach (var (section, i) in mine.Select((s, i) => (s, i)))
        {
            if (section.Name != shadow[i].Name || !section.Bytes.AsSpan().SequenceEqual(shadow[i].Bytes))
            {
                throw Fail($"{when}: the writer's {section.Name} state ({section.Bytes.Length} bytes) differs from the shadow's ({shadow[i].Bytes.Length} bytes) fed the acknowledged operations");
            }
        }

        Account[] accounts = engine.ReadAllAccounts();
        if (!accounts.AsSpan().SequenceEqual(_shadow.Accounts))
        {
            throw Fail($"{when}: the published accounts differ from the shadow's:\n  engine {string.Join("\n         ", accounts)}\n  shadow {string.Join("\n         ", _shadow.Accounts.ToArray())}");
        }

        if (Conservation.ConservationBreak(accounts) is { } broken)
        {
            throw Fail($"{when}: {broken}");
        }

        if (engine.TransferCount != _shadow.TransferCount)
        {
            throw Fail($"{when}: the engine publishes {engine.TransferCount} transfers, the shadow holds {_shadow.TransferCount}");
        }

        if (full)
        {
            foreach (Account account in accounts)
            {
                var filter = new AccountFilter { AccountId = account.Id, Limit = 100_000, Flags = AccountFilterFlags.Debits | AccountFilterFlags.Credits };
                if (!engine.GetAccountTransfers(filter).AsSpan().SequenceEqual(_shadow.GetAccountTransfers(filter)))
                {
                    throw Fail($"{when}: the published history of account {account.Id} differs from the shadow's");
                }
            }
        }

        foreach (ChannelState state in ChannelBook.Find(_shadow)?.All ?? [])
        {
            CheckChannel(engine, state, when);
        }

        foreach (KeyState key in IdentityBook.Find(_shadow)?.All ?? [])
        {
            if (!engine.TryGetKey(key.KeyId, out KeyInfo info) || info.Status != key.Status || info.AccountId != key.AccountId || !info.Policy.Equals(key.Policy))
            {
                throw Fail($"{when}: key {key.KeyId} is {key.Status} on account {key.AccountId} in the shadow, but the engine publishes {(engine.TryGetKey(key.KeyId, out info) ? $"{info.Status} on {info.AccountId}" : "none")}");
            }
        }
    }

    private void CheckChannel(LedgerEngine engine, ChannelState state, string when)
    {
        UInt128 id = state.Config.Id;

        // A closed channel has refunded the rest, unless the payer's account refuses the credit (a documented known gap:
        // the rest stays visible in escrow).
        bool refundRefused = _shadow.TryGetAccount(state.Config.PayerAccountId, out Account payer) &&
            (payer.Flags & (AccountFlags.CreditsMustNotExceedDebits | AccountFlags.Closed)) != 0;
        if (state.Redeemed + state.Refunded > state.Deposit || (state.Status == ChannelStatus.Closed && state.Remaining != 0 && !refundRefused))
        {
            throw Fail($"{when}: channel {id} ({state.Status}) pays out {state.Redeemed} + refunds {state.Refunded} of a deposit of {state.Deposit}");
        }

        if (state.Status == ChannelStatus.Closed && state.Remaining != 0 && _refundsRefused.Add(id))
        {
            Note($"channel {id} closed with {state.Remaining} left in escrow: the payer's account refuses the refund ({payer.Flags})");
        }

        UInt128 owed = state.Config.Mode == ChannelMode.HashChain
            ? state.TickIndex * state.Config.UnitAmount
            : (state.Lanes?.Values.AsEnumerable() ?? []).Aggregate(UInt128.Zero, (sum, lane) => sum + lane.Redeemed);
        if (state.Redeemed != owed)
        {
            throw Fail($"{when}: channel {id} paid its payee {state.Redeemed}, but its {(state.Config.Mode == ChannelMode.HashChain ? "ticks" : "lanes")} add up to {owed}");
        }

        if (!engine.TryGetChannel(id, out ChannelInfo info) || info.Deposited != state.Deposit || info.PaidOut != state.Redeemed + state.Refunded ||
            info.Status != state.Status || info.CloseDeadline != state.CloseDeadline || info.TickIndex != state.TickIndex)
        {
            throw Fail($"{when}: channel {id} is {state.Status} with {state.Deposit} deposited and {state.Redeemed + state.Refunded} paid out in the shadow, but the engine publishes {(engine.TryGetChannel(id, out info) ? $"{info.Status} with {info.Deposited} and {info.PaidOut}" : "none")}");
        }

        foreach ((uint lane, LaneState expected) in state.Lanes ?? [])
        {
            if (!engine.TryGetLane(id, lane, out ulong sequence, out UInt128 redeemed) || sequence != expected.Sequence || redeemed != expected.Redeemed)
            {
                throw Fail($"{when}: lane {lane} of channel {id} is at #{expected.Sequence} {expected.Redeemed} in the shadow, but the engine publishes #{sequence} {redeemed}");
            }
        }
    }

    /// <summary>
    /// The offline audit (<see cref="AuditVerifier"/>) over the store and the audit log as a clean shutdown left them:
    /// every record's checksum and the hash chain, every leaf and tile recomputed by replay, every checkpoint and every
    /// signature. Any finding fails the run, as does a journal that ends anywhere but the last known batch.
    /// </summary>
    private void VerifyAudit(string when)
    {
        if (!Audited || _auditKey is null)
        {
            return;
        }

        AuditReport report = AuditVerifier.Verify(_files, StoreDirectory, AuditDirectory, _auditKey);
        _counters.AuditVerifications++;
        _counters.AuditedLeaves += report.Leaves;
        Note($"audit {when}: {report.Findings.Count} findings, {report.Batches} batches to {report.LastBatch}, {report.Leaves} leaves, {report.CheckpointsVerified} checkpoints, {report.SignaturesVerified} signatures");
        if (!report.IsIntact)
        {
            throw Fail($"audit {when}: {report.Findings.Count} findings; the first: {report.Findings[0]}");
        }

        if (report.LastBatch != _genesisBatches + KnownBatches)
        {
            throw Fail($"audit {when}: the journal ends at batch {report.LastBatch}, but batch {_genesisBatches + KnownBatches} is the last known");
        }
    }

    /// <summary>
    /// After a recovery: a payer's receipt for a transfer the known operations created, as the recovered engine gives it
    /// (its event, inclusion proof and a signed checkpoint), verifies offline with the ledger's key alone.
    /// </summary>
    private void CheckReceipt(LedgerEngine engine)
    {
        if (!Audited || _auditKey is null)
        {
            return;
        }

        // Ids the transfer steps chose that a transfer event created (not a top-up under the same id).
        UInt128[] created = [.. _known.Where(step => step.Custom is null && step.Order is null && step.Transfers is not null)
            .SelectMany(step => step.Transfers!).Select(t => t.Id).Where(id => !_topUpIds.Contains(id) && _shadow.TryGetTransfer(id, out _)).Distinct()];
        if (created.Length == 0)
        {
            return;
        }

        UInt128 id = created[_random.Next(created.Length)];
        ReceiptStatus status;
        AuditReceipt? receipt;
        try
        {
            // May sign a checkpoint (a write to checkpoints.bin), where an armed fault can land.
            status = engine.TryGetReceipt(id, out receipt);
        }
        catch (IOException e) when (Faulted)
        {
            Note($"the receipt's checkpoint hit the fault: {e.Message}");
            return;
        }

        if (status == ReceiptStatus.Compacted)
        {
            Note($"receipt for transfer {id}: its batch was compacted");
            return;
        }

        if (status != ReceiptStatus.Ok || ReceiptVerifier.Verify(receipt!, _auditKey) is var result && result != ReceiptResult.Ok)
        {
            throw Fail($"after recovery the receipt for transfer {id} is {status}{(receipt is null ? string.Empty : $", and verifies as {ReceiptVerifier.Verify(receipt, _auditKey)}")}");
        }

        _counters.ReceiptsVerified++;
    }

    /// <summary>A channel the workload opened (or tried to): its config, and what the payer has signed on it so far.</summary>
    private sealed class SimulatedChannel(int number, ChannelConfig config, SigningKey key, byte[]? chainSeed)
    {
        /// <summary>Its place in the order the workload made them (the trace's "channel N").</summary>
        public int Number { get; } = number;

        public ChannelConfig Config { get; } = config;

        /// <summary>The payer key the config names.</summary>
        public SigningKey Key { get; } = key;

        /// <summary>The hash chain's seed; null for a cumulative channel.</summary>
        public byte[]? ChainSeed { get; } = chainSeed;

        /// <summary>The highest sequence and cumulative amount signed per lane.</summary>
        public Dictionary<uint, (ulong Sequence, ulong Cumulative)> Lanes { get; } = [];

        /// <summary>The highest tick index issued.</summary>
        public uint NextTick { get; set; }
    }

    /// <summary>A step the full workload defines by its two halves: what it submits, and what the shadow does with it.</summary>
    private sealed record CustomStep(string Label, Func<LedgerEngine, Task<string>> Submit, Func<LedgerStateMachine, ulong, (string Rendering, bool Batch)> Shadow);
}
