using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// Carries each iteration's <see cref="LatencyHistogram"/> from the process that runs a benchmark to the
/// BenchmarkDotNet host that prints the summary, so that <see cref="OperationLatencyColumn"/> can show per-operation
/// percentiles with the in-process toolchain and the default out-of-process one alike.
/// </summary>
/// <remarks>
/// <para><b>Where.</b> One directory per host process, created the first time this class is used in a process that
/// does not have <see cref="DirectoryVariable"/> set, which then sets it in its own environment and deletes the
/// directory when it exits. <see cref="OperationLatencyConfig"/> touches this class when BenchmarkDotNet builds the
/// config, before any benchmark process starts, and the processes BenchmarkDotNet starts inherit the host's
/// environment, so they write where the host reads. (The benchmark process is not told BenchmarkDotNet's artifacts
/// path, and a directory per host run means two runs at once, or a stale file from an earlier run, can never mix.)</para>
/// <para><b>What.</b> One file per benchmark case, named after a hash of its key: the benchmark type, the benchmark
/// method and every <c>[Params]</c> and <c>[Arguments]</c> value. The benchmark process knows these from its own
/// instance and the host from the <see cref="BenchmarkCase"/>. Each <c>[IterationCleanup]</c> appends one line:
/// the process id, <see cref="Stopwatch.Frequency"/>, and that iteration's histogram (<see cref="LatencyHistogram.Format"/>).</para>
/// <para><b>Which iterations.</b> BenchmarkDotNet calls the iteration setup and cleanup around every workload
/// iteration (jitting, pilot, warmup, actual; not the overhead ones) and reports each as a measurement, in order
/// (followed by the computed <see cref="IterationStage.Result"/> ones, which are not iterations);
/// with a memory diagnoser it then runs one extra, unreported iteration. So the host pairs the lines of each launch
/// (grouped by process id) with that launch's workload measurements, in order, ignores lines left over, and merges
/// only the lines paired with an <see cref="IterationStage.Actual"/> measurement: the percentiles cover exactly the
/// iterations behind BenchmarkDotNet's mean. If the counts do not line up (fewer lines than measurements, or not one
/// process per launch) the columns say <c>NA</c> rather than guess. One job per run: two jobs running the same case in
/// one process would write to the same file.</para>
/// </remarks>
public static class LatencyLog
{
    /// <summary>The environment variable through which the host hands its directory to the benchmark processes.</summary>
    public const string DirectoryVariable = "MICROPAY_BENCH_LATENCY_DIR";

    private static readonly ConditionalWeakTable<BenchmarkReport, Box> s_measured = new();

    static LatencyLog()
    {
        string? inherited = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(inherited))
        {
            Directory = inherited;
            return;
        }

        string created = Path.Combine(Path.GetTempPath(), $"micropay-bench-latency-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(created);
        Environment.SetEnvironmentVariable(DirectoryVariable, created);
        Directory = created;

        // Only the process that created the directory deletes it, after the summary has been printed.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(created, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover directory in the temporary folder is harmless.
            }
        };
    }

    /// <summary>The directory this process writes to (benchmark process) or reads from (host).</summary>
    public static string Directory { get; }

    /// <summary>
    /// Makes sure the directory exists and is in this process's environment. The host must do this before BenchmarkDotNet
    /// starts the benchmark processes; <see cref="OperationLatencyConfig"/>'s constructor does.
    /// </summary>
    public static void EnsureInitialized() => _ = Directory;

    /// <summary>
    /// Appends one iteration's latencies for the benchmark case running now. Call it from <c>[IterationCleanup]</c>,
    /// then <see cref="LatencyHistogram.Reset"/> the histogram (or reset it in <c>[IterationSetup]</c>).
    /// </summary>
    /// <param name="histogram">What the iteration recorded.</param>
    /// <param name="benchmark">The benchmark class instance (its <c>[Params]</c> values are part of the key).</param>
    /// <param name="benchmarkMethod">The <c>[Benchmark]</c> method that ran, for example <c>nameof(MyBenchmark)</c>.</param>
    /// <param name="arguments">That method's <c>[Arguments]</c> values for this case, in order; none if it has no parameters.</param>
    /// <exception cref="ArgumentException">The method does not exist or takes a different number of arguments.</exception>
    public static void AppendIteration(LatencyHistogram histogram, object benchmark, string benchmarkMethod, params object?[] arguments)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        ArgumentNullException.ThrowIfNull(benchmark);
        string key = KeyOf(benchmark, benchmarkMethod, arguments);
        string path = PathOf(key);
        string line = string.Create(
            CultureInfo.InvariantCulture,
            $"{Environment.ProcessId} {Stopwatch.Frequency} {histogram.Format()}\n");
        if (!File.Exists(path))
        {
            // The key in clear, for whoever looks at the directory; lines starting with '#' are skipped when read.
            File.WriteAllText(path, "# " + key + "\n");
        }

        File.AppendAllText(path, line);
    }

    /// <summary>
    /// The merged latencies of the measured (<see cref="IterationStage.Actual"/>) iterations of a case, in the ticks
    /// they were recorded in, with that process's <see cref="Stopwatch.Frequency"/>; null when none were logged or the
    /// iterations cannot be paired with BenchmarkDotNet's measurements (see the remarks on <see cref="LatencyLog"/>).
    /// </summary>
    /// <param name="report">The case's report from the summary.</param>
    /// <returns>The histogram and the <see cref="Stopwatch.Frequency"/> of the process that recorded it, or null.</returns>
    public static (LatencyHistogram Histogram, long Frequency)? ReadMeasured(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return s_measured.GetValue(report, static r => new Box(Read(r))).Value;
    }

    private static (LatencyHistogram, long)? Read(BenchmarkReport report)
    {
        string path = PathOf(KeyOf(report.BenchmarkCase));
        if (!File.Exists(path))
        {
            return null;
        }

        // Lines per benchmark process, in the order the processes (launches) ran.
        List<(int Pid, List<(long Frequency, string Buckets)> Lines)> processes = [];
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            string[] fields = line.Split(' ', 3);
            int pid = int.Parse(fields[0], CultureInfo.InvariantCulture);
            long frequency = long.Parse(fields[1], CultureInfo.InvariantCulture);
            string buckets = fields.Length > 2 ? fields[2] : "";
            if (processes.Count == 0 || processes[^1].Pid != pid)
            {
                processes.Add((pid, []));
            }

            processes[^1].Lines.Add((frequency, buckets));
        }

        List<Measurement[]> launches = [.. report.AllMeasurements
            .Where(m => m.IterationMode == IterationMode.Workload && m.IterationStage != IterationStage.Result) // results are computed, not run
            .GroupBy(m => m.LaunchIndex)
            .OrderBy(g => g.Key)
            .Select(g => g.ToArray())];
        if (launches.Count == 0 || launches.Count != processes.Count)
        {
            return null;
        }

        LatencyHistogram merged = new();
        long mergedFrequency = 0;
        for (int launch = 0; launch < launches.Count; launch++)
        {
            Measurement[] measurements = launches[launch];
            List<(long Frequency, string Buckets)> lines = processes[launch].Lines;
            if (lines.Count < measurements.Length)
            {
                return null;
            }

            for (int i = 0; i < measurements.Length; i++)
            {
                if (measurements[i].IterationStage != IterationStage.Actual)
                {
                    continue;
                }

                if (mergedFrequency != 0 && mergedFrequency != lines[i].Frequency)
                {
                    return null; // Launches on clocks of different resolutions: their buckets do not mean the same.
                }

                mergedFrequency = lines[i].Frequency;
                merged.AddFormatted(lines[i].Buckets);
            }
        }

        return merged.Count == 0 ? null : (merged, mergedFrequency);
    }

    /// <summary>The key of a case as the host sees it.</summary>
    private static string KeyOf(BenchmarkCase benchmarkCase)
    {
        IEnumerable<(string, object?)> values = benchmarkCase.Parameters.Items.Select(p => (p.Name, (object?)p.Value));
        return Key(benchmarkCase.Descriptor.Type, benchmarkCase.Descriptor.WorkloadMethod.Name, values);
    }

    /// <summary>The key of a case as the benchmark process sees it: its [Params] members and the method's arguments.</summary>
    private static string KeyOf(object benchmark, string benchmarkMethod, object?[] arguments)
    {
        // BenchmarkDotNet runs a generated subclass of the benchmark class (in and out of process); the host knows the class.
        Type type = benchmark.GetType();
        while (type.Namespace == "BenchmarkDotNet.Autogenerated" && type.BaseType is { } declared)
        {
            type = declared;
        }

        MethodInfo method = type.GetMethod(benchmarkMethod, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new ArgumentException($"{type.Name} has no public method {benchmarkMethod}.", nameof(benchmarkMethod));
        ParameterInfo[] parameters = method.GetParameters();
        if (parameters.Length != arguments.Length)
        {
            throw new ArgumentException(
                $"{benchmarkMethod} takes {parameters.Length} arguments but {arguments.Length} were given.", nameof(arguments));
        }

        List<(string, object?)> values = [];
        foreach (MemberInfo member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!member.GetCustomAttributes().Any(a => a is ParamsAttribute or ParamsSourceAttribute or ParamsAllValuesAttribute))
            {
                continue;
            }

            object? value = member switch
            {
                PropertyInfo property => property.GetValue(benchmark),
                FieldInfo field => field.GetValue(benchmark),
                _ => null,
            };
            values.Add((member.Name, value));
        }

        for (int i = 0; i < parameters.Length; i++)
        {
            values.Add((parameters[i].Name ?? $"arg{i}", arguments[i]));
        }

        return Key(type, benchmarkMethod, values);
    }

    private static string Key(Type type, string method, IEnumerable<(string Name, object? Value)> values)
    {
        // Sorted by name: both sides then agree whatever order BenchmarkDotNet or reflection lists the members in.
        IEnumerable<string> pairs = values
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .Select(v => v.Name + "=" + (v.Value is IFormattable formattable
                ? formattable.ToString(null, CultureInfo.InvariantCulture)
                : v.Value?.ToString() ?? "null"));
        return $"{type.FullName}.{method}({string.Join(", ", pairs)})";
    }

    private static string PathOf(string key)
    {
        // A hash, not the key itself: keys can hold characters no file system accepts, or be too long for a name.
        string name = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 16));
        return Path.Combine(Directory, name + ".latency");
    }

    // ConditionalWeakTable needs a reference type; the host reads each file once per summary.
    private sealed class Box((LatencyHistogram, long)? value)
    {
        public (LatencyHistogram, long)? Value { get; } = value;
    }
}
