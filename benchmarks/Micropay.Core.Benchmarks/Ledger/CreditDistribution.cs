namespace Micropay.Core.Benchmarks.Ledger;

/// <summary>How the credit (receiving) account of each generated transfer is chosen.</summary>
public enum CreditDistribution
{
    /// <summary>Every account is equally likely: the worst case for caches, as nearly every row is cold.</summary>
    Uniform,

    /// <summary>
    /// Zipf with s = 1.0 over all accounts: a few merchants receive most payments, as in a real payment network.
    /// Their rows stay hot in cache, so only the debit side (still uniform) misses.
    /// </summary>
    Zipf,
}
