using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Micropay.Core.Benchmarks.Engine;

/// <summary>
/// A thread-safe, allocation-free latency recorder: log-linear buckets in the style of HdrHistogram, preallocated, with a
/// relative precision of 1/64 (about 1.6% bucket width, so a reported percentile is within about 0.8% of the true
/// value) from the clock's resolution up to 2^36 ticks (68 s with Linux's 1 ns ticks).
/// </summary>
/// <remarks>
/// <para><b>Layout.</b> Values are <see cref="Stopwatch"/> ticks. Values below <see cref="LinearLimit"/> (128) get one
/// bucket each, so they are exact. Each power of two above, [2^k, 2^(k+1)) for k = 7 .. 35, is split into
/// <see cref="SubBuckets"/> (64) equal buckets of width 2^(k-6). That is <see cref="BucketCount"/> (1,984) counters,
/// 16 KB, allocated once. Values of 2^36 ticks or more are counted in the last bucket.</para>
/// <para><b>Threads.</b> <see cref="Record"/> may be called from any number of threads at once: it is one
/// <see cref="Interlocked.Increment(ref long)"/> on the value's bucket, so no count is lost. There is no shared total
/// (it would be one cache line every recording thread writes); readers sum the buckets. Concurrent recorders of
/// similar latencies do contend on the same bucket's cache line, a cost measured along with the benchmark (tens of
/// nanoseconds, small next to the operations it times). Reads (<see cref="Count"/>, <see cref="GetPercentile"/>,
/// <see cref="Format"/>) and <see cref="Reset"/> are meant for the moments when nobody records (between benchmark
/// iterations): they are not atomic snapshots, and a reset racing with recorders may keep or lose their counts.</para>
/// </remarks>
public sealed class LatencyHistogram
{
    /// <summary>Values below this many ticks are counted exactly, one bucket per tick.</summary>
    public const int LinearLimit = 1 << (SubBucketBits + 1);

    /// <summary>Buckets per power of two above <see cref="LinearLimit"/>: the precision is 1 / <see cref="SubBuckets"/>.</summary>
    public const int SubBuckets = 1 << SubBucketBits;

    /// <summary>The number of buckets: the linear range plus <see cref="SubBuckets"/> per power of two up to 2^<see cref="MaxBits"/>.</summary>
    public const int BucketCount = LinearLimit + ((MaxBits - SubBucketBits - 1) * SubBuckets);

    /// <summary>Values of 2^<see cref="MaxBits"/> ticks or more are counted in the last bucket.</summary>
    public const int MaxBits = 36;

    private const int SubBucketBits = 6;

    // Written by Interlocked.Increment from any thread; read (plainly) only between iterations.
    private readonly long[] _counts = new long[BucketCount];

    /// <summary>The number of recorded values (the sum of the buckets; not a snapshot while others record).</summary>
    public long Count
    {
        get
        {
            long total = 0;
            foreach (long count in _counts)
            {
                total += count;
            }

            return total;
        }
    }

    /// <summary>Records one latency.</summary>
    /// <param name="elapsedTicks"><see cref="Stopwatch"/> ticks, for example <c>Stopwatch.GetTimestamp() - start</c>; negative counts as 0.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Record(long elapsedTicks) => Interlocked.Increment(ref _counts[BucketOf(elapsedTicks)]);

    /// <summary>Records the latency of an operation that started at <paramref name="startTimestamp"/> and has just finished.</summary>
    /// <param name="startTimestamp">A <see cref="Stopwatch.GetTimestamp"/> taken when the operation started.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RecordSince(long startTimestamp) => Record(Stopwatch.GetTimestamp() - startTimestamp);

    /// <summary>Forgets every recorded value (the buckets stay allocated). Call it when nobody records.</summary>
    public void Reset() => Array.Clear(_counts);

    /// <summary>Adds every count of <paramref name="other"/> to this histogram (to merge iterations or threads).</summary>
    /// <param name="other">The histogram to add; it is not changed.</param>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }
    }

    /// <summary>
    /// The latency below or at which <paramref name="percentile"/> percent of the recorded values fall, in ticks: the
    /// midpoint of the bucket holding that rank (exact below <see cref="LinearLimit"/>).
    /// </summary>
    /// <param name="percentile">0 to 100, for example 50, 99 or 99.9.</param>
    /// <returns>The value in <see cref="Stopwatch"/> ticks, or <see cref="double.NaN"/> when nothing was recorded.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="percentile"/> is outside 0 to 100.</exception>
    public double GetPercentile(double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(percentile, 0.0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100.0);
        long total = Count;
        if (total == 0)
        {
            return double.NaN;
        }

        // The nearest-rank definition: the smallest value with at least this fraction of the values at or below it.
        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Midpoint(i);
            }
        }

        return Midpoint(_counts.Length - 1);
    }

    /// <summary><see cref="GetPercentile"/> converted to nanoseconds with this machine's <see cref="Stopwatch.Frequency"/>.</summary>
    /// <param name="percentile">0 to 100.</param>
    /// <returns>Nanoseconds, or <see cref="double.NaN"/> when nothing was recorded.</returns>
    public double GetPercentileNanoseconds(double percentile) => GetPercentile(percentile) * 1e9 / Stopwatch.Frequency;

    /// <summary>
    /// Writes the non-empty buckets as <c>index:count</c> pairs separated by spaces (for example <c>130:7 131:2</c>):
    /// the compact text form <see cref="LatencyLog"/> stores per iteration and <see cref="Parse"/> reads back.
    /// </summary>
    /// <returns>The text; empty when nothing was recorded.</returns>
    public string Format()
    {
        StringBuilder text = new();
        for (int i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] != 0)
            {
                if (text.Length != 0)
                {
                    text.Append(' ');
                }

                text.Append(CultureInfo.InvariantCulture, $"{i}:{_counts[i]}");
            }
        }

        return text.ToString();
    }

    /// <summary>Adds the counts written by <see cref="Format"/> to this histogram.</summary>
    /// <param name="text">The <c>index:count</c> pairs.</param>
    /// <exception cref="FormatException">A pair is malformed or its index is out of range.</exception>
    public void AddFormatted(ReadOnlySpan<char> text)
    {
        foreach (Range range in text.Split(' '))
        {
            ReadOnlySpan<char> pair = text[range];
            if (pair.IsEmpty)
            {
                continue;
            }

            int colon = pair.IndexOf(':');
            if (colon < 0 ||
                !int.TryParse(pair[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out int index) ||
                !long.TryParse(pair[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out long count) ||
                (uint)index >= (uint)_counts.Length)
            {
                throw new FormatException($"'{pair}' is not a latency histogram bucket (index:count, index below {BucketCount}).");
            }

            _counts[index] += count;
        }
    }

    /// <summary>Reads a histogram written by <see cref="Format"/>.</summary>
    /// <param name="text">The <c>index:count</c> pairs.</param>
    /// <returns>A new histogram holding those counts.</returns>
    /// <exception cref="FormatException">A pair is malformed or its index is out of range.</exception>
    public static LatencyHistogram Parse(ReadOnlySpan<char> text)
    {
        LatencyHistogram histogram = new();
        histogram.AddFormatted(text);
        return histogram;
    }

    /// <summary>The bucket of a value in ticks.</summary>
    /// <param name="ticks">The value; negative counts as 0, 2^<see cref="MaxBits"/> or more as the last bucket.</param>
    /// <returns>0 to <see cref="BucketCount"/> - 1.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BucketOf(long ticks)
    {
        ulong value = (ulong)Math.Max(ticks, 0);
        if (value < LinearLimit)
        {
            return (int)value;
        }

        int msb = BitOperations.Log2(value);
        if (msb >= MaxBits)
        {
            return BucketCount - 1;
        }

        // value is in [2^msb, 2^(msb+1)); its top SubBucketBits + 1 bits, 64 to 127, pick one of 64 equal buckets.
        int shift = msb - SubBucketBits;
        return LinearLimit + ((msb - SubBucketBits - 1) * SubBuckets) + (int)(value >> shift) - SubBuckets;
    }

    /// <summary>The smallest value in ticks that falls in a bucket.</summary>
    /// <param name="bucket">0 to <see cref="BucketCount"/> - 1.</param>
    /// <returns>The bucket's lower bound.</returns>
    public static long LowerBound(int bucket)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bucket);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bucket, BucketCount);
        if (bucket < LinearLimit)
        {
            return bucket;
        }

        int power = (bucket - LinearLimit) / SubBuckets; // 0 for [2^7, 2^8)
        int sub = (bucket - LinearLimit) % SubBuckets;
        int shift = power + 1;
        return (long)(SubBuckets + sub) << shift;
    }

    private static double Midpoint(int bucket)
    {
        long low = LowerBound(bucket);
        long width = bucket < LinearLimit ? 1 : 1L << (((bucket - LinearLimit) / SubBuckets) + 1);

        // A linear bucket holds one value exactly; a wider one is reported at its middle, halving the worst error.
        return width == 1 ? low : low + ((width - 1) / 2.0);
    }
}
