using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using Micropay.Core.Tests;
using Micropay.Core.Tests.Ledger;
using Micropay.Core.Tests.Storage.Disk;

namespace Micropay.Core.Simulation;

/// <summary>The store a run drives.</summary>
public enum SimulatedStore
{
    /// <summary><see cref="FileLedgerStore"/> on a <see cref="SimulatedDisk"/>: power cuts, kills, EIO, bit flips.</summary>
    File,

    /// <summary><see cref="InMemoryLedgerStore"/> over one backing that outlives the engines: kills and failed writes.</summary>
    InMemory,
}

/// <summary>A bug planted for the simulator to find (test-only seams, nothing in src).</summary>
public enum PlantedBug
{
    /// <summary>No bug: the real code.</summary>
    None,

    /// <summary>A file system under the store that drops one file fsync in four (the data stays in the page cache only).</summary>
    DropFsync,

    /// <summary>A file system under the audit log that drops one write in eight to its tile files (hashes-L.bin): a tile the log believes written is not.</summary>
    DropTileWrite,
}

/// <summary>What a run is: its seed and shape. The same settings reproduce the same run.</summary>
/// <param name="Seed">The one seed every random choice (workload, faults, the disk's fate of unsynced writes) comes from.</param>
/// <param name="Lives">How many lives (open, work, crash or close) the run has.</param>
/// <param name="Store">The store.</param>
/// <param name="Bug">A planted bug, or none.</param>
/// <param name="Workload">What the run submits.</param>
public sealed record SimulationSettings(
    int Seed, int Lives = 6, SimulatedStore Store = SimulatedStore.File, PlantedBug Bug = PlantedBug.None, SimulatedWorkload Workload = SimulatedWorkload.Ledger)
{
    /// <summary>The shortest command that replays this run.</summary>
    public string ReproductionCommand =>
        $"dotnet run --project tests/Micropay.Core.Simulation -c Release -- --seed {Seed}" +
        (Lives != 6 ? $" --lives {Lives}" : string.Empty) +
        (Store != SimulatedStore.File ? " --store in-memory" : string.Empty) +
        (Workload != SimulatedWorkload.Ledger ? " --workload full" : string.Empty) +
        Bug switch { PlantedBug.DropFsync => " --plant drop-fsync", PlantedBug.DropTileWrite => " --plant drop-tile-write", _ => string.Empty };
}

/// <summary>What a run did and found.</summary>
public sealed record SimulationOutcome(SimulationSettings Settings, string? Failure, string Trace, SimulationCounters Counters)
{
    public bool Failed => Failure is not null;

    /// <summary>The failure, its seed, the reproduction command and the last steps of the trace.</summary>
    public string Describe() => Failure is null
        ? $"seed {Settings.Seed}: ok ({Counters})"
        : $"seed {Settings.Seed} FAILED: {Failure}{Environment.NewLine}reproduce: {Settings.ReproductionCommand}{Environment.NewLine}last steps:{Environment.NewLine}" +
          string.Join(Environment.NewLine, Trace.Split('\n').TakeLast(30));
}

/// <summary>How much of each thing a run did.</summary>
public sealed class SimulationCounters
{
    public int Operations { get; set; }
    public int Acknowledged { get; set; }
    public int Crashes { get; set; }
    public int PowerCuts { get; set; }
    public int InjectedFaults { get; set; }
    public int BitFlips { get; set; }
    public int FlipsRefused { get; set; }
    public int Snapshots { get; set; }
    public int Compactions { get; set; }
    public int Recoveries { get; set; }
    public int InFlightKept { get; set; }
    public int OrdersOk { get; set; }
    public int OrdersRefused { get; set; }
    public int KeyRegistrations { get; set; }
    public int KeyChanges { get; set; }
    public int ChannelEvents { get; set; }
    public int ChannelEventsOk { get; set; }
    public int EdgeRefusals { get; set; }
    public int AuditVerifications { get; set; }
    public long AuditedLeaves { get; set; }
    public int ReceiptsVerified { get; set; }

    public void Add(SimulationCounters other)
    {
        Operations += other.Operations;
        Acknowledged += other.Acknowledged;
        Crashes += other.Crashes;
        PowerCuts += other.PowerCuts;
        InjectedFaults += other.InjectedFaults;
        BitFlips += other.BitFlips;
        FlipsRefused += other.FlipsRefused;
        Snapshots += other.Snapshots;
        Compactions += other.Compactions;
        Recoveries += other.Recoveries;
        InFlightKept += other.InFlightKept;
        OrdersOk += other.OrdersOk;
        OrdersRefused += other.OrdersRefused;
        KeyRegistrations += other.KeyRegistrations;
        KeyChanges += other.KeyChanges;
        ChannelEvents += other.ChannelEvents;
        ChannelEventsOk += other.ChannelEventsOk;
        EdgeRefusals += other.EdgeRefusals;
        AuditVerifications += other.AuditVerifications;
        AuditedLeaves += other.AuditedLeaves;
        ReceiptsVerified += other.ReceiptsVerified;
    }

    public override string ToString() =>
        $"{Operations} operations ({Acknowledged} acknowledged), {Crashes} crashes ({PowerCuts} power cuts), {InjectedFaults} injected I/O faults, " +
        $"{BitFlips} bit flips ({FlipsRefused} refused at open), {Snapshots} snapshots, {Compactions} compactions, {Recoveries} recoveries ({InFlightKept} kept the operation in flight), " +
        $"{KeyRegistrations} key registrations, {OrdersOk} signed orders paid, {OrdersRefused} refused" +
        (ChannelEvents + KeyChanges + AuditVerifications == 0 ? string.Empty
            : $", {KeyChanges} key operations, {ChannelEvents} channel submissions ({ChannelEventsOk} all Ok), {EdgeRefusals} refused at the edge, " +
              $"{AuditVerifications} audits ({AuditedLeaves} leaves), {ReceiptsVerified} receipts verified after recoveries");
}

/// <summary>
/// The deterministic simulator: drives the real <see cref="LedgerEngine"/> (Durable) over the real store, from one seeded
/// random source and a manual clock, one submission at a time (the caller awaits each, so the engine's writer thread
/// applies, journals and fsyncs it alone and the disk sees one call order per seed). After every step and every
/// recovery it checks the engine against <see cref="ReferenceLedger"/> fed the acknowledged operations, or in the full
/// workload against a shadow ledger and the offline audit (Simulator.Full.cs).
/// </summary>
public sealed partial class Simulator
{
    private const string Root = "/simulated";
    private const string StoreDirectory = "/simulated/store";
    private const ulong Second = 1_000_000_000;
    private const int AccountCount = 8;

    private static readonly FileLedgerStoreOptions FileOptions = new() { SegmentSizeBytes = 8192, SnapshotsToKeep = 2 };

    private readonly SimulationSettings _settings;
    private readonly Random _random;
    private readonly SimulatedDisk _disk;
    private readonly StoreFileSystem _files;
    private readonly InMemoryLedgerStoreBacking _memory = new();
    private readonly ManualClock _clock = new();
    private readonly List<string> _trace = [];
    private readonly SimulationCounters _counters = new();

    // Operations every recovery must show: acknowledged, or reported by an open. Each is one ledger batch.
    private readonly List<Step> _known = [];
    private Step? _inFlight;
    private ReferenceLedger _model = new();
    private readonly HashSet<UInt128> _submittedTransferIds = [];
    private readonly List<UInt128> _holds = [];
    private ulong _genesisBatches;
    private ulong _acknowledgedSnapshot;
    private UInt128 _nextTransferId = 1;
    private ulong _minimumClock;
    private ulong _highWater;

    // Keys and signed orders: one device key on account 1, a window limit the orders run into.
    private static readonly byte[] DeviceSeed = Convert.FromHexString("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    private static readonly SpendingPolicy Policy = new() { WindowLimit = 600, WindowLength = 60 * Second };
    private readonly SigningKey _device = SigningKey.Import(DeviceSeed, SigningKeyFormat.RawSeed);
    private bool _keyKnown;
    private UInt128 _nextOrderId = (UInt128)1 << 64;

    // Whether an injected fault (EIO, failed in-memory write) fired in this life: errors after it are expected.
    private bool _faultFired;

    public Simulator(SimulationSettings settings)
    {
        _settings = settings;
        _random = new Random(settings.Seed);
        _disk = new SimulatedDisk(settings.Seed, Root);
        var liar = new Random(settings.Seed ^ 0x5eed);
        _files = settings.Bug switch
        {
            // One file fsync in four returns without syncing, as a store that acknowledged before its fsync would.
            PlantedBug.DropFsync => new LyingDisk(_disk, liesAbout: _ => true, dropFlush: () => liar.Next(4) == 0),

            // One write in eight to an audit tile file (hashes-L.bin) returns without writing, as a log that lost a tile would.
            PlantedBug.DropTileWrite => new LyingDisk(
                _disk, liesAbout: path => Path.GetFileName(path).StartsWith("hashes-", StringComparison.Ordinal), dropWrite: () => liar.Next(8) == 0),
            _ => _disk,
        };
        _clock.Nanoseconds = 1_700_000_000 * Second;
        _instanceId = new UInt128(0x5eed_0000_0000_0000UL | (uint)settings.Seed, 0x0123_4567_89ab_cdefUL);
    }

    /// <summary>Runs one seed; never throws for a finding (returns it), so callers can print the seed.</summary>
    public static async Task<SimulationOutcome> RunAsync(SimulationSettings settings)
    {
        var simulator = new Simulator(settings);
        string? failure = null;
        try
        {
            await simulator.RunAsync();
        }
        catch (SimulationFailure e)
        {
            failure = e.Message;
        }
        catch (Exception e)
        {
            failure = $"unexpected {e.GetType().Name}: {e.Message}{Environment.NewLine}{e.StackTrace}";
        }

        return new SimulationOutcome(settings, failure, string.Join('\n', simulator._trace), simulator._counters);
    }

    private void Note(string what) => _trace.Add($"[disk op {_disk.Operations}, t={_clock.Nanoseconds / 1_000_000}ms] {what}");

    private static SimulationFailure Fail(string what) => new(what);

    private async Task RunAsync()
    {
        for (int life = 0; life < _settings.Lives; life++)
        {
            ArmFaults(life);
            await LiveAsync(operations: _random.Next(3, 30), life);
            if (_random.Next(3) == 0)
            {
                await CompactAsync();
            }
        }

        // A last crash with nothing running (a power cut on the file store), then the final recovery and check.
        Crash(powerCut: true);
        Disarm();
        await LiveAsync(operations: 0, life: _settings.Lives);

        if (_settings.Store == SimulatedStore.File && _random.Next(3) == 0)
        {
            await FlipABitAsync();
        }
    }

    private void ArmFaults(int life)
    {
        Disarm();
        int dice = _random.Next(10);
        if (_settings.Store == SimulatedStore.InMemory)
        {
            return; // in-memory faults are armed per append, in SubmitAsync
        }

        if (dice < 5)
        {
            // A power cut (or a kill, chosen at the crash) after a random number of changing disk operations: often
            // small, so that it lands inside recovery, a snapshot or right after the open.
            long budget = _random.Next(3) switch { 0 => _random.Next(8), 1 => _random.Next(60), _ => _random.Next(300) };
            Note($"life {life}: power cut after {budget} more disk operations");
            _disk.CutPowerAfter(budget);
        }
        else if (dice < 8)
        {
            // EIO on the n-th write or flush of a store file (torn and short writes come with the power cuts).
            DiskOperation operation = _random.Next(3) == 0 ? DiskOperation.Write : DiskOperation.Flush;
            int countdown = _random.Next(1, 60);
            Note($"life {life}: EIO on the {countdown}th {operation}");
            _disk.FailWhen = call =>
            {
                if (call.Operation == operation && call.Path.StartsWith(StoreDirectory, StringComparison.Ordinal) && --countdown == 0)
                {
                    _faultFired = true;
                    _counters.InjectedFaults++;
                    return true;
                }

                return false;
            };
        }
        else
        {
            Note($"life {life}: no fault armed");
        }
    }

    private void Disarm()
    {
        _disk.FailWhen = null;
        _disk.CutPowerAfter(long.MaxValue);
        _faultFired = false;
    }

    private bool Faulted => _disk.IsDown || _faultFired;

    private ILedgerStore? _currentStore;

    private ILedgerStore NewStore() => _currentStore = _settings.Store == SimulatedStore.File
        ? new FileLedgerStore(StoreDirectory, FileOptions, _files)
        : new InMemoryLedgerStore(_memory);

    /// <summary>One life: open (recovery), check, run operations until done or a fault, then close cleanly or crash.</summary>
    private async Task LiveAsync(int operations, int life)
    {
        LedgerEngine? engine = null;
        try
        {
            try
            {
                engine = await LedgerEngine.OpenAsync(EngineOptions());
            }
            catch (Exception e) when (Faulted)
            {
                Note($"open failed under a fault: {e.GetType().Name}: {e.Message}");
                Crash(powerCut: null);
                return;
            }
            catch (Exception e)
            {
                throw Fail($"the open failed on a healthy disk: {e.GetType().Name}: {e.Message}");
            }

            _counters.Recoveries++;
            CheckRecovery(engine);
            for (int i = 0; i < operations; i++)
            {
                if (!await StepAsync(engine))
                {
                    break;
                }
            }

            if (_random.Next(4) == 0 && !Faulted)
            {
                Note("clean close");
                await engine.DisposeAsync();
                engine = null;
                VerifyAudit("after the clean close");
                return;
            }
        }
        finally
        {
            if (engine is not null)
            {
                try
                {
                    await engine.DisposeAsync();
                }
                catch (Exception e) when (Faulted)
                {
                    Note($"dispose after the fault: {e.GetType().Name}");
                }
            }
        }

        // The engine shut down cleanly (the crash comes after): the files must audit clean.
        if (!Faulted)
        {
            VerifyAudit("after the shutdown");
        }

        if (life < _settings.Lives)
        {
            Crash(powerCut: null);
        }
    }

    private void Crash(bool? powerCut)
    {
        _counters.Crashes++;
        if (_settings.Store == SimulatedStore.InMemory)
        {
            Note("crash: the engine is gone, the backing stays");
            return;
        }

        if (powerCut ?? _random.Next(2) == 0)
        {
            Note("crash: power cut (unsynced writes kept, lost or torn per sector)");
            _counters.PowerCuts++;
            _disk.CutPower();
            _disk.Restart();
        }
        else
        {
            Note("crash: process kill (page cache survives)");
            _disk.KillProcess();
            _disk.Restart();
        }
    }

    /// <summary>One random step; false when a fault ended the life.</summary>
    private async Task<bool> StepAsync(LedgerEngine engine)
    {
        AdvanceClock();
        int dice = _random.Next(100);
        try
        {
            if (dice < 8)
            {
                Note("snapshot");
                ulong batch = await engine.TakeSnapshotAsync();
                _counters.Snapshots++;
                _acknowledgedSnapshot = Math.Max(_acknowledgedSnapshot, batch);
                Note($"snapshot of batch {batch} acknowledged");
                return true;
            }

            Step step = Full ? NewFullStep(engine, dice)
                : dice < 15 ? NewAccountsStep() : dice < 18 ? new Step(_clock.Nanoseconds, null, null, RegisterKey: true) : dice < 30 ? NewOrderStep(engine) : NewTransfersStep();
            _counters.Operations++;
            _inFlight = step;
            if (_settings.Store == SimulatedStore.InMemory && _random.Next(25) == 0)
            {
                var failure = _random.Next(2) == 0 ? InMemoryLedgerStore.WriteFailure.BeforeBacking : InMemoryLedgerStore.WriteFailure.AfterBacking;
                Note($"in-memory store: next write fails ({failure})");
                ((InMemoryLedgerStore)_currentStore!).FailNextDurableWrite(failure);
                _faultFired = true;
                _counters.InjectedFaults++;
            }

            Note($"submit {step}");
            string actual = await SubmitAsync(engine, step);
            ulong made = engine.ReleasedBatchNumber - (_genesisBatches + KnownBatches);
            string expected;
            if (Full)
            {
                Note($"  answer: {actual}");
                // The shadow decides what the edge refuses (no batch) and what the ledger does with the rest.
                (expected, bool batch) = ApplyToShadow(_shadow, step);
                step.Batches = batch ? 1 : 0;
                if (made != (ulong)step.Batches)
                {
                    throw Fail($"{step} made {made} batches in the engine, but {step.Batches} in the shadow (answer: {actual})");
                }

                _counters.EdgeRefusals += batch ? 0 : 1;
                if (step.Custom is { } custom && !custom.Label.StartsWith("key", StringComparison.Ordinal))
                {
                    _counters.ChannelEvents++;
                    _counters.ChannelEventsOk += actual == "Ok" || actual.StartsWith("0: ", StringComparison.Ordinal) ? 1 : 0;
                }
            }
            else
            {
                bool refusedBeforeTheLedger = step.Order is not null && actual != "order Ok" && (int)Enum.Parse<OrderResult>(actual[6..]) < 100;
                if (refusedBeforeTheLedger && made == 0)
                {
                    // Refused at the edge (4e.3: signatures and keys are checked before the ring): no batch.
                    step.Batches = 0;
                }

                expected = Apply(_model, step, actual);
            }
            if (step.RegisterKey && actual == "key Ok")
            {
                _keyKnown = true;
                _counters.KeyRegistrations++;
            }

            if (step.Order is not null)
            {
                if (actual == "order Ok")
                {
                    _counters.OrdersOk++;
                }
                else
                {
                    _counters.OrdersRefused++;
                }
            }
            _inFlight = null;
            step.Result = actual;
            _known.Add(step);
            _counters.Acknowledged++;
            if (actual != expected)
            {
                throw Fail($"results of {step}:\n  engine {actual}\n  model  {expected}");
            }

            CheckState(engine, $"after {step}", full: _random.Next(8) == 0);
            if (engine.ReleasedBatchNumber != _genesisBatches + KnownBatches)
            {
                throw Fail($"after {step} the engine released batch {engine.ReleasedBatchNumber}, expected {_genesisBatches + KnownBatches}");
            }

            return true;
        }
        catch (Exception e) when (Faulted && e is not SimulationFailure)
        {
            Note($"fault reached the caller: {e.GetType().Name}: {e.Message}");
            if (dice < 8 && engine.Failure is null)
            {
                // A failed snapshot leaves the journal and the engine running (4b): carry on while the disk is up.
                return !_disk.IsDown;
            }

            if (_faultFired && !_disk.IsDown)
            {
                // The store must refuse to continue after a failed write or fsync: the next submission fails too.
                await RefusesAfterFaultAsync(engine);
            }

            return false;
        }
    }

    private async Task RefusesAfterFaultAsync(LedgerEngine engine)
    {
        var probe = new Step(_clock.Nanoseconds, [new Account { Id = 1_000_000 + (UInt128)_counters.Operations, LedgerId = 1, Code = 1 }], null);
        try
        {
            string result = await SubmitAsync(engine, probe);
            throw Fail($"after a failed write or fsync the engine acknowledged another submission ({probe}: {result}) instead of refusing");
        }
        catch (Exception e) when (e is not SimulationFailure)
        {
            Note($"refused after the fault: {e.GetType().Name}");
        }
    }

    private void AdvanceClock()
    {
        int dice = _random.Next(50);
        ulong now = Math.Max(_clock.Nanoseconds, _minimumClock);
        if (dice == 0)
        {
            // A jump forward: every hold times out.
            now += (ulong)_random.Next(60, 7200) * Second;
            Note("clock jumps forward");
        }
        else if (dice == 1)
        {
            // A jump backward (NTP step): the ledger's timestamps must still increase.
            now = Math.Max(_minimumClock, now - ((ulong)_random.Next(1, 30) * Second));
            Note("clock jumps backward");
        }
        else
        {
            now += (ulong)_random.Next(1, 1500) * 1_000_000;
        }

        _clock.Nanoseconds = now;
        _highWater = Math.Max(_highWater, now);
    }

    /// <summary>
    /// After a batch the model does not see (a key operation, an order refused by its policy, an operation in flight),
    /// the next batches run after it on the clock, so the ledger's timestamps do not depend on its timestamp.
    /// </summary>
    private void StayAfterUnseenBatch() => _minimumClock = Math.Max(_minimumClock, _highWater + Second);

    private Step NewOrderStep(LedgerEngine engine)
    {
        UInt128 payee = (UInt128)_random.Next(2, AccountCount + 1);
        _submittedTransferIds.Add(_nextOrderId);
        var transfer = new Transfer { Id = _nextOrderId++, DebitAccountId = 1, CreditAccountId = payee, Amount = (UInt128)_random.Next(1, 150), LedgerId = 1, Code = 1 };
        return new Step(_clock.Nanoseconds, null, [transfer], Order: PaymentOrder.Sign(_device, engine.InstanceId, transfer, ulong.MaxValue));
    }

    private Step NewAccountsStep()
    {
        int count = _random.Next(1, 4);
        var accounts = new Account[count];
        for (int i = 0; i < count; i++)
        {
            AccountFlags flags = _random.Next(4) switch
            {
                0 => AccountFlags.DebitsMustNotExceedCredits,
                1 => AccountFlags.CreditsMustNotExceedDebits,
                _ => AccountFlags.None,
            };
            if (i < count - 1 && _random.Next(4) == 0)
            {
                flags |= AccountFlags.Linked;
            }

            // Mostly the small id space (so duplicates and Exists happen), sometimes a bad ledger.
            accounts[i] = new Account { Id = (UInt128)_random.Next(1, AccountCount + 3), LedgerId = _random.Next(20) == 0 ? 0u : 1u, Code = 1, Flags = flags };
        }

        return new Step(_clock.Nanoseconds, accounts, null);
    }

    private Step NewTransfersStep()
    {
        int count = _random.Next(1, 6);
        var transfers = new Transfer[count];
        bool chain = _random.Next(4) == 0;
        for (int i = 0; i < count; i++)
        {
            Transfer t = NewTransfer();
            if (chain && (i < count - 1 || _random.Next(6) == 0))
            {
                t = t with { Flags = t.Flags | TransferFlags.Linked };
            }

            transfers[i] = t;
            _submittedTransferIds.Add(t.Id);
        }

        return new Step(_clock.Nanoseconds, null, transfers);
    }

    private Transfer NewTransfer()
    {
        UInt128 id = _random.Next(15) == 0 && _nextTransferId > 1 ? (UInt128)_random.Next(1, (int)Math.Min(int.MaxValue, (ulong)_nextTransferId)) : _nextTransferId++;
        UInt128 debit = (UInt128)_random.Next(1, AccountCount + 1);
        UInt128 credit = (UInt128)_random.Next(1, AccountCount + 1);
        UInt128 amount = (UInt128)_random.Next(0, 200);
        int kind = _random.Next(10);
        if (kind < 5)
        {
            return new Transfer { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = amount, LedgerId = 1, Code = 1 };
        }

        if (kind < 7)
        {
            _holds.Add(id);
            uint timeout = _random.Next(3) == 0 ? 0u : (uint)_random.Next(1, 4);
            return new Transfer { Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = amount, LedgerId = 1, Code = 1, Flags = TransferFlags.Pending, Timeout = timeout };
        }

        if (kind < 9 && _holds.Count > 0)
        {
            UInt128 pending = _holds[_random.Next(_holds.Count)];
            TransferFlags flags = _random.Next(2) == 0 ? TransferFlags.PostPendingTransfer : TransferFlags.VoidPendingTransfer;
            UInt128 partial = _random.Next(3) == 0 ? (UInt128)_random.Next(1, 100) : 0;
            return new Transfer { Id = id, PendingId = pending, Amount = flags == TransferFlags.PostPendingTransfer ? partial : 0, Flags = flags };
        }

        return new Transfer
        {
            Id = id, DebitAccountId = debit, CreditAccountId = credit, Amount = amount, LedgerId = 1, Code = 1,
            Flags = _random.Next(2) == 0 ? TransferFlags.BalancingDebit : TransferFlags.BalancingCredit,
        };
    }

    private async Task<string> SubmitAsync(LedgerEngine engine, Step step)
    {
        if (step.Custom is { } custom)
        {
            return await custom.Submit(engine);
        }

        if (step.RegisterKey)
        {
            return $"key {await engine.RegisterKeyAsync(1, _device.VerificationKey, Policy)}";
        }

        if (step.Order is { } order)
        {
            return $"order {await engine.ExecuteOrderAsync(order)}";
        }

        if (step.Accounts is { } accounts)
        {
            if (accounts.Length == 1)
            {
                return $"0: {await engine.CreateAccountAsync(accounts[0])}";
            }

            var results = new CreateAccountResult[accounts.Length];
            int failed = await engine.CreateAccountsAsync(accounts, results);
            return $"{failed}: {string.Join(", ", results)}";
        }

        Transfer[] transfers = step.Transfers!;
        if (transfers.Length == 1)
        {
            return $"0: {await engine.CreateTransferAsync(transfers[0])}";
        }

        var transferResults = new CreateTransferResult[transfers.Length];
        int transfersFailed = await engine.CreateTransfersAsync(transfers, transferResults);
        return $"{transfersFailed}: {string.Join(", ", transferResults)}";
    }

    /// <summary>Applies a step to a model and renders its results as <see cref="SubmitAsync"/> renders the engine's.</summary>
    private string Apply(ReferenceLedger model, Step step, string? engineResult)
    {
        if (step.RegisterKey)
        {
            // Not in the model: its survival is checked at recovery (TryGetKey). Its batch starts like any other
            // (timestamp, due holds expire): an empty batch in the model.
            _ = model.CreateTransfers(step.Clock, [], []);
            StayAfterUnseenBatch();
            return engineResult ?? string.Empty;
        }

        if (step.Order is { } order)
        {
            // The policy is not modelled: an order refused before the ledger (results under 100) changes nothing; one
            // that reached the ledger must have the result the model gives its transfer (order results 101+ are the
            // transfer results + 100). A kept order in flight (no result) reached the ledger if its transfer exists.
            bool reachedLedger = engineResult is null ? step.OrderApplied : engineResult is "order Ok" || (int)Enum.Parse<OrderResult>(engineResult[6..]) > 100;
            if (!reachedLedger)
            {
                if (step.Batches == 1)
                {
                    // Refused on the writer (the window is decided there): the batch still started.
                    _ = model.CreateTransfers(step.Clock, [], []);
                }

                StayAfterUnseenBatch();
                return engineResult!;
            }

            var orderResults = new CreateTransferResult[1];
            _ = model.CreateTransfers(step.Clock, [step.Transfers![0]], orderResults);
            string expectedOrder = orderResults[0] == CreateTransferResult.Ok ? "order Ok" : $"order {(OrderResult)((int)orderResults[0] + 100)}";
            if (engineResult is null && orderResults[0] != CreateTransferResult.Ok)
            {
                StayAfterUnseenBatch();
            }

            return expectedOrder;
        }

        if (step.Accounts is { } accounts)
        {
            var results = new CreateAccountResult[accounts.Length];
            int failed = model.CreateAccounts(step.Clock, accounts, results);
            return accounts.Length == 1 ? $"0: {results[0]}" : $"{failed}: {string.Join(", ", results)}";
        }

        Transfer[] transfers = step.Transfers!;
        var transferResults = new CreateTransferResult[transfers.Length];
        int transfersFailed = model.CreateTransfers(step.Clock, transfers, transferResults);
        return transfers.Length == 1 ? $"0: {transferResults[0]}" : $"{transfersFailed}: {string.Join(", ", transferResults)}";
    }

    private ReferenceLedger Replay(IEnumerable<Step> steps)
    {
        var model = new ReferenceLedger();
        foreach (Step step in steps)
        {
            _ = Apply(model, step, step.Result);
        }

        return model;
    }

    /// <summary>
    /// After an open: the engine holds exactly the known operations, plus perhaps the one in flight at the crash (whole);
    /// what it reports from now on is a promise like an acknowledgement.
    /// </summary>
    /// <summary>How many batches the known operations made (one each, none for an order refused at the edge).</summary>
    private ulong KnownBatches => (ulong)_known.Sum(step => step.Batches);

    private void CheckRecovery(LedgerEngine engine, bool damaged = false)
    {
        if (_genesisBatches == 0)
        {
            _genesisBatches = engine.ReleasedBatchNumber;
            _minimumClock = _clock.Nanoseconds + Second;
            if (Full)
            {
                StartShadow(engine);
            }

            Note($"first open: genesis released batch {_genesisBatches}");
            if (_genesisBatches == 0)
            {
                throw Fail("the first open released no genesis batch");
            }
        }

        ulong expected = _genesisBatches + KnownBatches;
        ulong released = engine.ReleasedBatchNumber;
        Note($"recovered at batch {released} (known {expected}, in flight: {_inFlight?.ToString() ?? "none"}), snapshot {engine.LatestSnapshotBatchNumber}");
        if (damaged && released + 1 == expected && _inFlight is null && engine.DiscardedTailAtOpen is { } tail && (tail.BatchNumber ?? expected) == expected)
        {
            // Documented (ARCHITECTURE 4b, 4c.7): a flipped bit in the last acknowledged record looks exactly like a torn
            // write; the store cuts it and the engine reports the cut (DiscardedTailAtOpen), never silently.
            Note($"the damaged last record was cut and reported: {tail}");
            int cut = _known.FindLastIndex(step => step.Batches == 1);
            bool cutRegistration = _known[cut].RegisterKey;
            _known.RemoveAt(cut);
            if (cutRegistration)
            {
                // The cut record was the key's registration: the key is known only if an earlier one registered it.
                _keyKnown = _known.Any(step => step.RegisterKey && (step.Result is null || step.Result == "key Ok"));
            }

            Rebuild();
            expected--;
        }

        if (released < expected)
        {
            throw Fail($"lost: the engine recovered to batch {released}, but batch {expected} was acknowledged or reported by an earlier open");
        }

        if (released == expected + 1 && _inFlight is { } kept)
        {
            if (kept.Order is { } keptOrder)
            {
                kept.OrderApplied = engine.TryGetTransfer(keptOrder.Id, out _);
            }

            StayAfterUnseenBatch();
            _known.Add(kept);
            _counters.InFlightKept++;
            Rebuild();
        }
        else if (released != expected)
        {
            throw Fail($"the engine recovered to batch {released}: beyond anything submitted ({expected}, in flight: {_inFlight is not null})");
        }
        else if (_inFlight is not null)
        {
            Rebuild();
        }

        if (_inFlight is { RegisterKey: true } && engine.TryGetKey(KeyIds.Of(_device.VerificationKey), out _))
        {
            _keyKnown = true;
        }

        _inFlight = null;
        if (_keyKnown && !engine.TryGetKey(KeyIds.Of(_device.VerificationKey), out _))
        {
            throw Fail("lost: the device key was registered (acknowledged or reported) but the recovered engine does not have it");
        }

        // A damaged snapshot may be passed over for an older one (checked against the model below like any recovery).
        if (!damaged && _settings.Store == SimulatedStore.File && engine.LatestSnapshotBatchNumber < _acknowledgedSnapshot)
        {
            throw Fail($"lost: the latest snapshot is of batch {engine.LatestSnapshotBatchNumber}, but one of batch {_acknowledgedSnapshot} was acknowledged");
        }

        _acknowledgedSnapshot = Math.Max(_acknowledgedSnapshot, engine.LatestSnapshotBatchNumber);

        // The recovered ledger's clock may be ahead of a clock that jumped back: keep later batches after the last known.
        _minimumClock = Math.Max(_minimumClock, _known.Count > 0 ? _known[^1].Clock : 0);
        CheckState(engine, "after recovery", full: true);
        if (Full && !damaged)
        {
            CheckReceipt(engine);
        }
    }

    /// <summary>The oracle fed the known operations again.</summary>
    private void Rebuild()
    {
        if (Full)
        {
            RebuildShadow();
        }
        else
        {
            _model = Replay(_known);
        }
    }

    private void CheckState(LedgerEngine engine, string when, bool full)
    {
        if (Full)
        {
            CheckShadowState(engine, when, full);
            return;
        }

        Account[] accounts = engine.ReadAllAccounts();
        Account[] expected = [.. _model.Accounts];
        if (!accounts.AsSpan().SequenceEqual(expected))
        {
            throw Fail($"{when}: the accounts differ from the model fed the acknowledged operations:\n  engine {string.Join("\n         ", accounts)}\n  model  {string.Join("\n         ", expected)}");
        }

        if (Conservation.ConservationBreak(accounts) is { } broken)
        {
            throw Fail($"{when}: {broken}");
        }

        if (engine.TransferCount != _model.TransferCount)
        {
            throw Fail($"{when}: the engine holds {engine.TransferCount} transfers, the model {_model.TransferCount}");
        }

        IEnumerable<UInt128> probes = full ? _submittedTransferIds : _known.Count > 0 && _known[^1].Transfers is { } last ? last.Select(t => t.Id) : [];
        foreach (UInt128 id in probes)
        {
            bool inModel = _model.TryGetTransfer(id, out Transfer want);
            bool inEngine = engine.TryGetTransfer(id, out Transfer got);
            if (inModel != inEngine || want != got)
            {
                throw Fail($"{when}: transfer {id}:\n  engine {(inEngine ? got : "none")}\n  model  {(inModel ? want : "none")}");
            }
        }
    }

    /// <summary>Compaction by a separate store instance between lives (the engine never compacts); crashes can land in it.</summary>
    private async Task CompactAsync()
    {
        if (_settings.Store != SimulatedStore.File || _disk.IsDown)
        {
            return;
        }

        Note("compact");
        await using var store = new FileLedgerStore(StoreDirectory, FileOptions, _files);
        try
        {
            LedgerStoreState state;
            try
            {
                state = await store.OpenAsync();
            }
            catch (Exception e) when (!Faulted)
            {
                throw Fail($"the store failed to open for compaction on a healthy disk: {e.GetType().Name}: {e.Message}");
            }

            ulong known = _genesisBatches + KnownBatches;
            if (state.LastBatchNumber < known)
            {
                throw Fail($"lost: the store opened for compaction at batch {state.LastBatchNumber}, but batch {known} was acknowledged or reported");
            }

            int removed = await store.CompactAsync();
            _counters.Compactions++;
            Note($"compacted: {removed} segments removed");
        }
        catch (Exception e) when (Faulted && e is not SimulationFailure)
        {
            Note($"compaction hit the fault: {e.GetType().Name}");
            Crash(powerCut: null);
            Disarm();
        }
    }

    /// <summary>
    /// Damage on the platter: one bit of one store file flips, durably. The next open must refuse (corruption detected)
    /// or recover exactly the known state (the bit was in something it does not need); never apply the damage.
    /// </summary>
    private async Task FlipABitAsync()
    {
        string[] files = [.. _disk.EnumerateFiles(StoreDirectory, "*").Order(StringComparer.Ordinal)];
        if (files.Length == 0)
        {
            return;
        }

        string file = files[_random.Next(files.Length)];
        byte[] bytes = _disk.ReadAll(file)!;
        if (bytes.Length == 0)
        {
            return;
        }

        int offset = _random.Next(bytes.Length);
        byte flipped = (byte)(bytes[offset] ^ (1 << _random.Next(8)));
        Note($"bit flip in {Path.GetFileName(file)} at byte {offset} of {bytes.Length}");
        _counters.BitFlips++;
        _disk.Corrupt(file, offset, [flipped]);
        Crash(powerCut: true);
        LedgerEngine engine;
        try
        {
            engine = await LedgerEngine.OpenAsync(EngineOptions());
        }
        catch (Exception e) when (e is LedgerStoreException or LedgerEngineException or LedgerSnapshotException or Audit.AuditLogException)
        {
            Note($"the open refused the damaged store: {e.GetType().Name}: {e.Message}");
            _counters.FlipsRefused++;
            return;
        }

        await using (engine)
        {
            CheckRecovery(engine, damaged: true);
        }
    }

    /// <summary>One submission: accounts or transfers, at a clock reading.</summary>
    private sealed record Step(ulong Clock, Account[]? Accounts, Transfer[]? Transfers, bool RegisterKey = false, PaymentOrder? Order = null, CustomStep? Custom = null)
    {
        /// <summary>The engine's result when acknowledged; null for an operation kept from flight by a recovery.</summary>
        public string? Result { get; set; }

        /// <summary>For an order kept from flight: whether its transfer exists (it reached the ledger and succeeded).</summary>
        public bool OrderApplied { get; set; }

        /// <summary>The batches it made: 1, or 0 for an order refused at the edge.</summary>
        public int Batches { get; set; } = 1;

        public override string ToString() => Custom is { } custom ? custom.Label : RegisterKey ? "register key" : Order is { } o ? $"order {o.Id}: 1->{Transfers![0].CreditAccountId} {o.Amount}" : Accounts is { } a
            ? $"accounts [{string.Join(", ", a.Select(x => $"{x.Id}{(x.Flags == AccountFlags.None ? string.Empty : " " + x.Flags)}"))}]"
            : $"transfers [{string.Join(", ", Transfers!.Select(t => $"{t.Id}: {t.DebitAccountId}->{t.CreditAccountId} {t.Amount}{(t.PendingId != 0 ? $" of {t.PendingId}" : string.Empty)}{(t.Flags == TransferFlags.None ? string.Empty : " " + t.Flags)}{(t.Timeout != 0 ? $" timeout {t.Timeout}s" : string.Empty)}"))}]";
    }

    private sealed class SimulationFailure(string message) : Exception(message);
}
