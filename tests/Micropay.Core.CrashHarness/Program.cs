using System.Globalization;
using Micropay.Core.CrashHarness;
using Micropay.Core.Engine;
using Micropay.Core.Storage;

// Usage:
//   dotnet Micropay.Core.CrashHarness.dll append <directory> <segment size bytes>
//     Opens the store and appends CrashBatches in a loop, printing each batch number (and flushing) once its
//     AppendAsync completed, i.e. once it is durable. Runs until killed.
//   dotnet Micropay.Core.CrashHarness.dll hold <directory>
//     Opens the store, prints "open", and keeps it open until standard input closes.
//   dotnet Micropay.Core.CrashHarness.dll engine <directory> <snapshot interval batches> <round> [<durability>]
//     Opens a LedgerEngine (Durable unless a DurabilityMode name is given) on the directory and submits transfers
//     from several tasks until killed, printing "start N" once open and then "<id> <result>" per acknowledged
//     transfer (see EngineWorkload).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: (append <directory> <segment size> | hold <directory> | engine <directory> <snapshot interval> <round> [<durability>])");
    return 2;
}

string mode = args[0];
string directory = args[1];
if (mode == "engine")
{
    if (args.Length < 4)
    {
        Console.Error.WriteLine("usage: engine <directory> <snapshot interval> <round> [<durability>]");
        return 2;
    }

    // The test keeps standard input open for as long as it wants this process; if the test process dies without
    // killing it (a crashed test host), standard input closes and the orphan exits instead of filling the disk.
    _ = Task.Run(() =>
    {
        _ = Console.In.ReadToEnd();
        Environment.Exit(3);
    });

    // The engine opens and owns its store.
    return await EngineWorkload.RunAsync(
        directory,
        int.Parse(args[2], CultureInfo.InvariantCulture),
        ulong.Parse(args[3], CultureInfo.InvariantCulture),
        args.Length > 4 ? Enum.Parse<DurabilityMode>(args[4]) : DurabilityMode.Durable);
}

var options = new FileLedgerStoreOptions
{
    SegmentSizeBytes = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) : FileLedgerStoreOptions.DefaultSegmentSizeBytes,
};

await using var store = new FileLedgerStore(directory, options);
LedgerStoreState state = await store.OpenAsync();
TextWriter output = Console.Out;
if (mode == "hold")
{
    output.WriteLine("open");
    output.Flush();
    _ = Console.In.ReadToEnd();
    return 0;
}

ulong next = state.LastBatchNumber + 1;
BatchHash previous = state.LastBatchHash;
output.WriteLine("start " + state.LastBatchNumber.ToString(CultureInfo.InvariantCulture));
output.Flush();
while (true)
{
    CommitBatch batch = CrashBatches.Create(next, previous);
    await store.AppendAsync(batch);
    output.WriteLine(next.ToString(CultureInfo.InvariantCulture));
    output.Flush();
    previous = CrashBatches.Hash(batch);
    next++;
}
