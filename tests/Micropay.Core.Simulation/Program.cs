using System.Diagnostics;
using System.Globalization;

namespace Micropay.Core.Simulation;

/// <summary>
/// The command line: <c>dotnet run --project tests/Micropay.Core.Simulation -c Release -- --seed 123</c> replays one run
/// (printing its trace), <c>--seeds 1000-5000</c> runs a range and prints every failing seed with its reproduction command.
/// Options: <c>--lives N</c>, <c>--store file|in-memory</c>, <c>--workload ledger|full</c>, <c>--plant drop-fsync|drop-tile-write</c>,
/// <c>--trace</c>. Exit code 1 when a seed failed.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        int first = 0;
        int last = 199;
        int lives = 6;
        bool trace = false;
        SimulatedStore store = SimulatedStore.File;
        PlantedBug bug = PlantedBug.None;
        SimulatedWorkload workload = SimulatedWorkload.Ledger;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seed":
                    first = last = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    trace = true;
                    break;
                case "--seeds":
                    string[] range = args[++i].Split('-');
                    first = int.Parse(range[0], CultureInfo.InvariantCulture);
                    last = int.Parse(range[^1], CultureInfo.InvariantCulture);
                    break;
                case "--lives":
                    lives = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--store":
                    store = args[++i] == "in-memory" ? SimulatedStore.InMemory : SimulatedStore.File;
                    break;
                case "--workload":
                    workload = args[++i] switch
                    {
                        "ledger" => SimulatedWorkload.Ledger,
                        "full" => SimulatedWorkload.Full,
                        _ => throw new ArgumentException($"unknown workload {args[i]} (ledger or full)"),
                    };
                    break;
                case "--plant":
                    bug = args[++i] switch
                    {
                        "drop-fsync" => PlantedBug.DropFsync,
                        "drop-tile-write" => PlantedBug.DropTileWrite,
                        _ => throw new ArgumentException($"unknown bug {args[i]} (drop-fsync or drop-tile-write)"),
                    };
                    break;
                case "--trace":
                    trace = true;
                    break;
                default:
                    Console.Error.WriteLine($"unknown argument {args[i]}; usage: [--seed N | --seeds A-B] [--lives N] [--store file|in-memory] [--workload ledger|full] [--plant drop-fsync|drop-tile-write] [--trace]");
                    return 2;
            }
        }

        var stopwatch = Stopwatch.StartNew();
        var totals = new SimulationCounters();
        int failures = 0;
        for (int seed = first; seed <= last; seed++)
        {
            SimulationOutcome outcome = await Simulator.RunAsync(new SimulationSettings(seed, lives, store, bug, workload));
            totals.Add(outcome.Counters);
            if (trace)
            {
                Console.WriteLine(outcome.Trace);
            }

            if (outcome.Failed)
            {
                failures++;
                Console.WriteLine(outcome.Describe());
            }
        }

        Console.WriteLine($"{last - first + 1} seeds ({first}-{last}), {failures} failed, {stopwatch.Elapsed.TotalSeconds:F1} s: {totals}");
        return failures == 0 ? 0 : 1;
    }
}
