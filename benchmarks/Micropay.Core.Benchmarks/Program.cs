using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Micropay.Core.Benchmarks.Ledger;

namespace Micropay.Core.Benchmarks;

/// <summary>
/// Entry point: BenchmarkDotNet's switcher over every benchmark in this assembly (pass <c>--filter</c>, <c>--job</c>
/// and so on after <c>--</c>), or <c>--memory-footprint</c> for the console memory report, or <c>--pg-commit-floor [rounds]</c> for where a one-event PostgreSQL append's time goes (PostgreSql/CommitFloorReport), or <c>--open-time [transfers [directory]]</c> for the first-open time of a durable engine (in a child process:
/// <c>--open-store directory</c>; a given directory keeps the store for the next run).
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected by <paramref name="args"/>.</summary>
    /// <returns>0 when every selected benchmark ran; 1 otherwise, so that CI fails on a broken benchmark.</returns>
    public static int Main(string[] args)
    {
        if (args is ["--memory-footprint"])
        {
            MemoryFootprintReport.Run(Console.Out);
            return 0;
        }

        if (args is ["--open-time", ..])
        {
            int transfers = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
            return Engine.EngineOpenBenchmarks.RunColdOpenReport(Console.Out, transfers, keep: args.Length > 2 ? args[2] : null);
        }

        if (args is ["--pg-commit-floor", ..])
        {
            PostgreSql.CommitFloorReport.Run(Console.Out, args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1000);
            return 0;
        }

        if (args is ["--open-store", string directory])
        {
            Engine.EngineOpenBenchmarks.RunOpenInThisProcess(Console.Out, directory);
            return 0;
        }

        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
