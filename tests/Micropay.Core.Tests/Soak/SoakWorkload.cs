using System.Collections.Concurrent;
using System.Diagnostics;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.Tests.Soak;

/// <summary>
/// The soak test's load: <see cref="SoakSettings.Workers"/> tasks each run paced rounds against one durable engine, every
/// round touching every feature, and most of each round's work storing nothing new (retries, refusals, reads), so a
/// leak per operation or per batch stands out against the data the rounds do store.
/// </summary>
/// <remarks>
/// <para>One round of worker w (round r):</para>
/// <list type="bullet">
/// <item>one new account (a channel payee later);</item>
/// <item>a batch of 16 new transfers between the 64 pool accounts, 4 of them one linked chain (every 4th round the chain's
/// last transfer names an unknown account, so the chain rolls back), then the same batch again (all Exists), then 8 to an
/// unknown account (refused);</item>
/// <item>four holds: one posted, one voided, two left to expire after 1 to 3 seconds; every 8th round one more with a
/// 60-second timeout, posted at once, whose expiry queue entry stays stale until it falls due (4.10);</item>
/// <item>lookups of accounts and transfers;</item>
/// <item>every 4th round a channel, by turn: cumulative closed cooperatively after vouchers (one replayed), cumulative
/// closed unilaterally (1 s settle delay), cumulative left to expire after 2 s, hash chain with ticks closed cooperatively;</item>
/// <item>every 16th round a new device key (the previous one revoked every other time), and every round two signed orders
/// under the current key, its window limit reached now and then.</item>
/// </list>
/// <para>After the warm-up, every other phase of <see cref="SoakSettings.QuietPhase"/> is quiet: its rounds submit as much,
/// but only records already submitted (the last round's account, batch, refusals, voucher and order again), so nothing
/// is stored and the heap may not grow at all (<see cref="SoakAnalysis"/>).</para>
/// <para>With <see cref="SoakSettings.PlantLeak"/> each round's transfer batch (a copy in quiet rounds, which submit the
/// last one again) is kept in a static list: about 2 KiB a round, the leak the test must catch.</para>
/// </remarks>
internal sealed class SoakWorkload
{
    /// <summary>The accounts 1 to 64 every round moves money between (none with balance limits).</summary>
    public const int PoolAccounts = 64;

    /// <summary>The longest hold timeout the workload uses (seconds): a stale expiry entry lives at most this long.</summary>
    public const uint LongestHoldTimeout = 60;

    private const ulong Second = 1_000_000_000UL;
    private const ulong UnknownAccount = 999_999_999;
    private const int BatchSize = 16;

    // The planted leak (only with SoakSettings.PlantLeak): every round's transfer batch, kept forever.
    private static readonly List<Transfer[]> PlantedLeak = [];

    private readonly LedgerEngine _engine;
    private readonly SoakSettings _settings;
    private readonly Stopwatch _clock;
    private readonly ConcurrentDictionary<string, long> _outcomes = new();

    // Timed holds submitted (Ok) and channels opened, per second of the run, for the expiry queues' bounds.
    private readonly long[] _timedHoldsPerSecond;
    private readonly long[] _channelsPerSecond;

    private long _accounts;
    private long _channels;
    private long _keys;
    private long _rounds;
    private long _nextAccount = 1_000_000;

    public SoakWorkload(LedgerEngine engine, SoakSettings settings, Stopwatch clock)
    {
        _engine = engine;
        _settings = settings;
        _clock = clock;
        _timedHoldsPerSecond = new long[(int)settings.Duration.TotalSeconds + 3600];
        _channelsPerSecond = new long[(int)settings.Duration.TotalSeconds + 3600];
    }

    public long Accounts => Interlocked.Read(ref _accounts);

    public long Channels => Interlocked.Read(ref _channels);

    public long Keys => Interlocked.Read(ref _keys);

    public long Rounds => Interlocked.Read(ref _rounds);

    public IReadOnlyDictionary<string, long> Outcomes => _outcomes;

    /// <summary>Timed holds submitted in the last <paramref name="seconds"/> seconds of the run (whole seconds, rounded out).</summary>
    public long TimedHoldsInLast(int seconds) => SumOfLast(_timedHoldsPerSecond, seconds);

    /// <summary>Channels opened in the last <paramref name="seconds"/> seconds of the run (whole seconds, rounded out).</summary>
    public long ChannelsInLast(int seconds) => SumOfLast(_channelsPerSecond, seconds);

    private long SumOfLast(long[] perSecond, int seconds)
    {
        int now = (int)_clock.Elapsed.TotalSeconds;
        long sum = 0;
        for (int s = Math.Max(0, now - seconds - 1); s <= now && s < perSecond.Length; s++)
        {
            sum += Interlocked.Read(ref perSecond[s]);
        }

        return sum;
    }

    public static void ReleasePlantedLeak()
    {
        lock (PlantedLeak)
        {
            PlantedLeak.Clear();
        }
    }

    /// <summary>Creates the pool accounts and funds them.</summary>
    public async Task SetUpAsync()
    {
        Account[] pool = [.. Enumerable.Range(1, PoolAccounts).Select(i => Acct((UInt128)i))];
        Assert.Equal(0, await _engine.CreateAccountsAsync(pool, new CreateAccountResult[pool.Length]));
        Interlocked.Add(ref _accounts, PoolAccounts);
    }

    /// <summary>Runs the workers until <paramref name="stop"/> is cancelled; the first failure ends the run.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, _settings.Workers).Select(w => Task.Run(() => WorkerAsync(w, stop), CancellationToken.None)));

    private async Task WorkerAsync(int worker, CancellationToken stop)
    {
        using SigningKey payerKey = SigningKey.Import(Seed(worker, 0, 1), SigningKeyFormat.RawSeed);
        var random = new Random(worker + 1);
        var state = new WorkerState(worker, payerKey);
        try
        {
            // Paced: a round starts every period (Workers / RoundsPerSecond), or at once when the worker is behind.
            TimeSpan period = TimeSpan.FromSeconds(_settings.Workers / _settings.RoundsPerSecond);
            TimeSpan next = _clock.Elapsed;
            for (ulong round = 1; !stop.IsCancellationRequested; round++)
            {
                if (_settings.IsQuiet(_clock.Elapsed) && state.LastBatch is not null)
                {
                    await QuietRoundAsync(state, random);
                }
                else
                {
                    await RoundAsync(state, round, random);
                }

                Interlocked.Increment(ref _rounds);
                next += period;
                TimeSpan wait = next - _clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(wait, stop);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                }
                else if (wait < -period * 50)
                {
                    next = _clock.Elapsed; // far behind (a loaded machine): do not try to catch up in a burst
                }
            }
        }
        finally
        {
            state.DeviceKey?.Dispose();
        }
    }

    private async Task RoundAsync(WorkerState w, ulong round, Random random)
    {
        UInt128 Id(int slot) => ((UInt128)(ulong)(w.Worker + 1) << 96) | ((UInt128)round << 16) | (UInt128)(uint)slot;
        UInt128 Pool() => (UInt128)random.Next(1, PoolAccounts + 1);

        // A new account.
        UInt128 account = (UInt128)Interlocked.Increment(ref _nextAccount);
        Expect("account", await _engine.CreateAccountAsync(Acct(account)), CreateAccountResult.Ok);
        Interlocked.Increment(ref _accounts);

        // New transfers with a linked chain, the same batch again, and refusals.
        var batch = new Transfer[BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            UInt128 debit = Pool();
            UInt128 credit = debit % PoolAccounts + 1;
            batch[i] = Tr(Id(i), debit, credit, (UInt128)random.Next(1, 100));
        }

        for (int i = BatchSize - 4; i < BatchSize - 1; i++)
        {
            batch[i].Flags |= TransferFlags.Linked;
        }

        if (round % 4 == 0)
        {
            batch[BatchSize - 1].CreditAccountId = UnknownAccount; // the chain rolls back
        }

        w.LastBatch = batch;
        w.LastAccount = account;
        var results = new CreateTransferResult[BatchSize];
        Count("transfers", await _engine.CreateTransfersAsync(batch, results) == (round % 4 == 0 ? 4 : 0));
        Count("transfer retries", await _engine.CreateTransfersAsync(batch, results) == BatchSize); // Exists, or failed again
        if (_settings.PlantLeak)
        {
            lock (PlantedLeak)
            {
                PlantedLeak.Add(batch);
            }
        }

        var refused = new Transfer[8];
        for (int i = 0; i < refused.Length; i++)
        {
            refused[i] = Tr(Id(100 + i), Pool(), UnknownAccount, 1);
        }

        Count("refusals", await _engine.CreateTransfersAsync(refused, new CreateTransferResult[refused.Length]) == refused.Length);
        w.LastRefused = refused;

        // Holds: posted, voided, two left to expire; now and then a long one posted at once (a stale expiry entry).
        var holds = new Transfer[round % 8 == 0 ? 5 : 4];
        for (int i = 0; i < holds.Length; i++)
        {
            UInt128 debit = Pool();
            holds[i] = Pend(Id(200 + i), debit, debit % PoolAccounts + 1, 10, timeout: i == 4 ? LongestHoldTimeout : (uint)random.Next(1, 4));
        }

        int failedHolds = await _engine.CreateTransfersAsync(holds, new CreateTransferResult[holds.Length]);
        Count("holds", failedHolds == 0);
        Interlocked.Add(ref _timedHoldsPerSecond[(int)_clock.Elapsed.TotalSeconds], holds.Length - failedHolds);
        Transfer[] settle =
        [
            Post(Id(300), holds[0].Id, 10),
            VoidOf(Id(301), holds[1].Id, 10),
            .. holds.Length == 5 ? [Post(Id(302), holds[4].Id, 10)] : Array.Empty<Transfer>(),
        ];
        Count("posts and voids", await _engine.CreateTransfersAsync(settle, new CreateTransferResult[settle.Length]) == 0);

        // Reads.
        Count("lookups", _engine.LookupAccounts([Pool(), account], new Account[2]) == 2 && _engine.TryGetTransfer(batch[0].Id, out _));

        if (round % 4 == 0)
        {
            await ChannelAsync(w, round, account, (int)(round / 4 % 4));
        }

        await KeysAndOrdersAsync(w, round, Id);
    }

    /// <summary>
    /// A round of a quiet phase: as many submissions and reads as a round, none of them storing anything (the last
    /// round's account, batch, refusals, voucher and order again: Exists, failed again, AlreadyRedeemed), so the heap may
    /// not grow at all.
    /// </summary>
    private async Task QuietRoundAsync(WorkerState w, Random random)
    {
        Count("quiet account retries", await _engine.CreateAccountAsync(Acct(w.LastAccount)) == CreateAccountResult.Exists);
        if (_settings.PlantLeak)
        {
            lock (PlantedLeak)
            {
                PlantedLeak.Add([.. w.LastBatch!]);
            }
        }

        Count("quiet transfer retries", await _engine.CreateTransfersAsync(w.LastBatch, new CreateTransferResult[w.LastBatch!.Length]) == w.LastBatch.Length);
        Count("quiet transfer retries", await _engine.CreateTransfersAsync(w.LastBatch, new CreateTransferResult[w.LastBatch.Length]) == w.LastBatch.Length);
        Count("quiet refusals", await _engine.CreateTransfersAsync(w.LastRefused, new CreateTransferResult[w.LastRefused!.Length]) == w.LastRefused.Length);
        Count("quiet lookups", _engine.LookupAccounts([(UInt128)random.Next(1, PoolAccounts + 1), w.LastAccount], new Account[2]) == 2 && _engine.TryGetTransfer(w.LastBatch[0].Id, out _));
        if (w.LastVoucher is { } voucher)
        {
            Count("quiet voucher replays", await _engine.RedeemVoucherAsync(voucher) != ChannelResult.Ok);
        }

        if (w.LastOrder is { } order)
        {
            Count("quiet order retries", await _engine.ExecuteOrderAsync(order) != OrderResult.Ok);
            Count("quiet order retries", await _engine.ExecuteOrderAsync(order) != OrderResult.Ok);
        }
    }

    private async Task ChannelAsync(WorkerState w, ulong round, UInt128 payee, int variant)
    {
        UInt128 payer = (UInt128)(uint)(w.Worker + 1);
        UInt128 salt = ((UInt128)(ulong)(w.Worker + 1) << 64) | round;
        ulong now = LedgerNow();
        ulong expiresAt = variant == 2 ? now + (2 * Second) : now + (3600 * Second);
        HashChainWallet? chain = variant == 3 ? HashChainWallet.FromSeed(Seed(w.Worker, round, 2), 64) : null;
        try
        {
            ChannelConfig config = chain is null
                ? ChannelConfig.CreateCumulative(_engine.InstanceId, payer, payee, 1, w.PayerKey.VerificationKey, expiresAt, Second, salt)
                : ChannelConfig.CreateHashChain(_engine.InstanceId, payer, payee, 1, w.PayerKey.VerificationKey, expiresAt, Second, salt, chain.Root, 1, chain.Length);
            Expect("channel open", await _engine.OpenChannelAsync(ChannelOpenRequest.Sign(w.PayerKey, config, 1_000)), ChannelResult.Ok);
            Interlocked.Increment(ref _channels);
            Interlocked.Increment(ref _channelsPerSecond[(int)_clock.Elapsed.TotalSeconds]);

            if (chain is not null)
            {
                Tick two = chain.NextTick(config.Id, 2);
                Count("ticks", await _engine.RedeemTickAsync(two) == ChannelResult.Ok);
                Count("ticks", await _engine.RedeemTickAsync(chain.NextTick(config.Id, 3)) == ChannelResult.Ok);
                Count("tick replays", await _engine.RedeemTickAsync(two) != ChannelResult.Ok);
                Count("channel closes", await _engine.CloseChannelAsync(ChannelClose.Cooperative(config.Id)) == ChannelResult.Ok);
                return;
            }

            Voucher first = Voucher.Sign(w.PayerKey, _engine.InstanceId, config.Id, 0, 1, 10, ulong.MaxValue);
            Count("vouchers", await _engine.RedeemVoucherAsync(first) == ChannelResult.Ok);
            w.LastVoucher = first;
            if (variant == 0)
            {
                Count("vouchers", await _engine.RedeemVoucherAsync(Voucher.Sign(w.PayerKey, _engine.InstanceId, config.Id, 1, 2, 25, ulong.MaxValue)) == ChannelResult.Ok);
                Count("voucher replays", await _engine.RedeemVoucherAsync(first) == ChannelResult.AlreadyRedeemed);
                Count("channel closes", await _engine.CloseChannelAsync(ChannelClose.Cooperative(config.Id)) == ChannelResult.Ok);
            }
            else if (variant == 1)
            {
                Count("channel closes", await _engine.CloseChannelAsync(ChannelClose.Unilateral(w.PayerKey, _engine.InstanceId, config.Id)) == ChannelResult.Ok);
            }
        }
        finally
        {
            chain?.Dispose();
        }
    }

    private async Task KeysAndOrdersAsync(WorkerState w, ulong round, Func<int, UInt128> id)
    {
        if (round % 16 == 1)
        {
            SigningKey? previous = w.DeviceKey;
            w.DeviceKey = SigningKey.Import(Seed(w.Worker, round, 3), SigningKeyFormat.RawSeed);
            w.DeviceAccount = (UInt128)(uint)(PoolAccounts - w.Worker);
            var policy = new SpendingPolicy { WindowLimit = 400, WindowLength = 10 * Second };
            Expect("key registration", await _engine.RegisterKeyAsync(w.DeviceAccount, w.DeviceKey.VerificationKey, policy), KeyResult.Ok);
            Interlocked.Increment(ref _keys);
            if (previous is not null)
            {
                if (round % 32 == 1)
                {
                    Count("key revocations", await _engine.RevokeKeyAsync(KeyIds.Of(previous.VerificationKey)) == KeyResult.Ok);
                }

                previous.Dispose();
            }
        }

        for (int i = 0; i < 2; i++)
        {
            Transfer transfer = Tr(id(400 + i), w.DeviceAccount, w.DeviceAccount % PoolAccounts + 1, 7);
            PaymentOrder order = PaymentOrder.Sign(w.DeviceKey!, _engine.InstanceId, transfer, ulong.MaxValue);
            OrderResult result = await _engine.ExecuteOrderAsync(order);
            Count(result == OrderResult.Ok ? "orders" : "orders " + result, true);
            w.LastOrder = order;
        }
    }

    private void Expect<T>(string what, T actual, T expected)
        where T : struct, Enum
    {
        if (!actual.Equals(expected))
        {
            throw new InvalidOperationException($"{what}: {actual}, expected {expected}");
        }

        Count(what, true);
    }

    private void Count(string what, bool asExpected) =>
        _outcomes.AddOrUpdate(asExpected ? what : what + " (unexpected)", 1, static (_, n) => n + 1);

    // The engine's clock: nanoseconds since the Unix epoch (TimeProvider.System).
    private static ulong LedgerNow() => (ulong)(DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    private static byte[] Seed(int worker, ulong round, byte purpose)
    {
        byte[] seed = new byte[32];
        seed[0] = purpose;
        seed[1] = (byte)(worker + 1);
        BitConverter.TryWriteBytes(seed.AsSpan(8), round);
        return seed;
    }

    private sealed class WorkerState(int worker, SigningKey payerKey)
    {
        public int Worker { get; } = worker;

        public SigningKey PayerKey { get; } = payerKey;

        public SigningKey? DeviceKey { get; set; }

        public UInt128 DeviceAccount { get; set; }

        // The last data round's records, which quiet rounds submit again.
        public Transfer[]? LastBatch { get; set; }

        public Transfer[]? LastRefused { get; set; }

        public UInt128 LastAccount { get; set; }

        public Voucher? LastVoucher { get; set; }

        public PaymentOrder? LastOrder { get; set; }
    }
}
