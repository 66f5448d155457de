namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>
/// Draws account rows with Zipf-distributed popularity: the rank-k account is chosen with probability
/// proportional to 1 / k^s. Ranks are mapped to rows by a random permutation, so the popular accounts are
/// scattered through the table as they would be in a real ledger (created whenever the merchant signed up),
/// rather than packed into a few adjacent cache lines.
/// </summary>
internal sealed class ZipfSampler
{
    // Cumulative probabilities by rank; sampling is a binary search for a uniform draw (inverse CDF).
    private readonly double[] _cumulative;
    private readonly int[] _rowOfRank;

    public ZipfSampler(int count, double exponent, Random random)
    {
        _cumulative = new double[count];
        double sum = 0;
        for (int k = 0; k < count; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            _cumulative[k] = sum;
        }

        for (int k = 0; k < count; k++)
        {
            _cumulative[k] /= sum;
        }

        _rowOfRank = new int[count];
        for (int k = 0; k < count; k++)
        {
            _rowOfRank[k] = k;
        }

        random.Shuffle(_rowOfRank);
    }

    /// <summary>The row of the next account drawn.</summary>
    public int Next(Random random)
    {
        int rank = Array.BinarySearch(_cumulative, random.NextDouble());
        if (rank < 0)
        {
            rank = ~rank;
        }

        // NextDouble is below 1, but rounding in the cumulative sums could leave the last entry just short of it.
        return _rowOfRank[Math.Min(rank, _rowOfRank.Length - 1)];
    }
}
