using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ShardedLedger.Benchmarks;

/// <summary>
/// Entry point: BenchmarkDotNet's switcher over the sharded-ledger benchmarks (pass <c>--filter</c>, <c>--job</c> and so
/// on after <c>--</c>), or <c>--phases [payments]</c> for the time of each phase of one cross-shard batch. They need PostgreSQL: MICROPAY_PG_CONNECTION's server, or a throwaway one started for the run
/// (pg.sh, 127.0.0.1 only) and stopped when the process exits.
/// </summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected by <paramref name="args"/>.</summary>
    /// <returns>0 when every selected benchmark ran; 1 otherwise, so that CI fails on a broken benchmark.</returns>
    public static int Main(string[] args)
    {
        try
        {
            if (args is ["--phases", ..])
            {
                int payments = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4_000;
                return PhaseReport.RunAsync(Console.Out, payments).GetAwaiter().GetResult();
            }

            IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
            bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
            return failed ? 1 : 0;
        }
        finally
        {
            BenchmarkPostgres.StopAsync().GetAwaiter().GetResult();
        }
    }
}
