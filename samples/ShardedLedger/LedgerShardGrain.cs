using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage.PostgreSql;
using Npgsql;
using Orleans.Concurrency;

namespace ShardedLedger;

/// <summary>
/// One shard: its activation opens a <see cref="LedgerEngine"/> on the shard's <see cref="PostgreSqlLedgerStore"/>
/// (ledger name <c>{cluster}-shard-{index}</c>) and creates the shard's bridge and treasury accounts if they are not there.
/// </summary>
/// <remarks>
/// <para>
/// <b>Why the PostgreSQL store.</b> An activation can outlive its silo's membership: when a silo is declared dead (or,
/// in the in-process test cluster, killed), Orleans activates the shard again on another silo while the old
/// activation's engine may still hold its store and even have an append in flight. Opening the PostgreSQL store takes
/// the ledger's lease and bumps its fencing epoch (4b.6): the old engine's next append commits nothing and fails
/// ("fenced"), and the new one recovers every batch the old one committed. So a takeover never forks a shard's journal,
/// and it needs no failure detector to be right, only to be quick. The file store's lock is the opposite: a second
/// open in the same process is refused until the first closes, which a dead activation never does.
/// </para>
/// <para>
/// <b>Reentrant.</b> The engine is safe for any number of concurrent callers and gathers what arrives while a batch
/// commits into the next (group commit), so the grain lets calls interleave; a non-reentrant shard would commit one
/// call at a time.
/// </para>
/// </remarks>
[Reentrant]
public sealed class LedgerShardGrain(ShardedLedgerSettings settings, NpgsqlDataSource dataSource) : Grain, ILedgerShardGrain
{
    private readonly ShardMap _map = new(settings.ShardCount);
    private LedgerEngine? _engine;
    private PostgreSqlLedgerStore? _store;
    private int _shard;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        long key = this.GetPrimaryKeyLong();
        if (key < 0 || key >= _map.ShardCount)
        {
            throw new ArgumentOutOfRangeException(nameof(key), key, $"Shard {key} does not exist: the cluster has {_map.ShardCount} shards.");
        }

        _shard = (int)key;
        _store = new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { DataSource = dataSource, LedgerName = settings.LedgerName(_shard) });
        _engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions { Store = _store }, cancellationToken);

        // Idempotent: Exists on every activation after the first.
        Account[] system =
        [
            new() { Id = ShardMap.BridgeAccount(_shard), LedgerId = ShardMap.LedgerId, Code = TransferCodes.BridgeAccount },
            new() { Id = ShardMap.TreasuryAccount(_shard), LedgerId = ShardMap.LedgerId, Code = TransferCodes.TreasuryAccount },
        ];
        var results = new CreateAccountResult[system.Length];
        await _engine.CreateAccountsAsync(system, results, cancellationToken);
        foreach (CreateAccountResult result in results)
        {
            if (result is not (CreateAccountResult.Ok or CreateAccountResult.Exists))
            {
                throw new InvalidOperationException($"Shard {_shard} could not create its system accounts: {result}.");
            }
        }
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public async Task<CreateAccountResult[]> CreateAccountsAsync(byte[] accounts)
    {
        Account[] decoded = Records.DecodeAccounts(accounts);
        foreach (Account account in decoded)
        {
            if (!ShardMap.IsCustomerAccount(account.Id) || _map.ShardOf(account.Id) != _shard)
            {
                throw new ArgumentException($"Account {account.Id} is not a customer account of shard {_shard}.", nameof(accounts));
            }
        }

        var results = new CreateAccountResult[decoded.Length];
        await Guard(async engine =>
        {
            int max = LedgerEngineOptions.DefaultMaxBatchSize;
            var chunks = new List<Task>();
            for (int start = 0; start < decoded.Length; start += max)
            {
                int length = Math.Min(max, decoded.Length - start);
                chunks.Add(engine.CreateAccountsAsync(decoded.AsMemory(start, length), results.AsMemory(start, length)).AsTask());
            }

            await Task.WhenAll(chunks);
        });
        return results;
    }

    /// <inheritdoc />
    public async Task<CreateTransferResult[]> CreateTransfersAsync(byte[] transfers)
    {
        Transfer[] decoded = Records.DecodeTransfers(transfers);
        var results = new CreateTransferResult[decoded.Length];
        await Guard(async engine =>
        {
            // Chunks are submitted together: the engine applies them in submission order, and a chunk that fits one
            // ledger batch keeps a caller's linked chains intact (this sample sends none across chunks).
            int max = LedgerEngineOptions.DefaultMaxBatchSize;
            var chunks = new List<Task>();
            for (int start = 0; start < decoded.Length; start += max)
            {
                int length = Math.Min(max, decoded.Length - start);
                chunks.Add(engine.CreateTransfersAsync(decoded.AsMemory(start, length), results.AsMemory(start, length)).AsTask());
            }

            await Task.WhenAll(chunks);
        });
        return results;
    }

    /// <inheritdoc />
    public Task<byte[]> LookupTransfersAsync(UInt128[] ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        LedgerEngine engine = Engine();
        var records = new byte[ids.Length * Transfer.Size];
        for (int i = 0; i < ids.Length; i++)
        {
            if (engine.TryGetTransfer(ids[i], out Transfer transfer))
            {
                transfer.Encode(records.AsSpan(i * Transfer.Size, Transfer.Size));
            }
        }

        return Task.FromResult(records);
    }

    /// <inheritdoc />
    public Task<byte[]> ReadAccountsAsync() => Task.FromResult(Records.Encode(Engine().ReadAllAccounts()));

    /// <inheritdoc />
    public Task<ActivationInfo> GetActivationAsync() => Task.FromResult(new ActivationInfo(RuntimeIdentity, _store?.Epoch ?? 0));

    private LedgerEngine Engine() => _engine ?? throw new InvalidOperationException($"Shard {_shard} is not open.");

    // An engine that failed (a fenced append after another activation took the ledger over, a lost connection) never
    // recovers in place: the outcome of its last batch is known only to a reopen. So the activation goes away and the
    // next call opens the shard afresh, which is exactly the store's recovery path.
    private async Task Guard(Func<LedgerEngine, Task> work)
    {
        LedgerEngine engine = Engine();
        try
        {
            await work(engine);
        }
        catch (LedgerEngineException)
        {
            DeactivateOnIdle();
            throw;
        }
    }
}
