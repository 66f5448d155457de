using System.Globalization;
using Micropay.Core.Storage;
using Micropay.Core.Storage.PostgreSql;
using Micropay.Core.Storage.PostgreSql.KillHarness;

// Usage: dotnet Micropay.Core.Storage.PostgreSql.KillHarness.dll <ledger name> <most batches>
//   Reads the connection string from MICROPAY_PG_CONNECTION, opens the ledger (taking it over), prints
//   "open <last batch> <epoch>", then appends KillBatches after the last one, printing "ack <n>" (and flushing) once
//   batch n's AppendAsync completed, i.e. once it is committed. Stops after <most batches> appends; meant to be killed
//   before. Exits when standard input closes, so a child outlives no crashed test host.
if (args.Length != 2 || Environment.GetEnvironmentVariable("MICROPAY_PG_CONNECTION") is not { Length: > 0 } connectionString)
{
    Console.Error.WriteLine("usage: MICROPAY_PG_CONNECTION=... <ledger name> <most batches>");
    return 2;
}

_ = Task.Run(() =>
{
    _ = Console.In.ReadToEnd();
    Environment.Exit(3);
});

int most = int.Parse(args[1], CultureInfo.InvariantCulture);
await using var store = new PostgreSqlLedgerStore(new PostgreSqlLedgerStoreOptions { ConnectionString = connectionString, LedgerName = args[0] });
LedgerStoreState state = await store.OpenAsync();
TextWriter output = Console.Out;
output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open {state.LastBatchNumber} {store.Epoch}"));
output.Flush();
BatchHash previous = state.LastBatchHash;
for (ulong number = state.LastBatchNumber + 1; number <= state.LastBatchNumber + (ulong)most; number++)
{
    CommitBatch batch = KillBatches.Create(number, previous);
    await store.AppendAsync(batch);
    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ack {number}"));
    output.Flush();
    previous = KillBatches.Hash(batch);
}

return 0;
