using Micropay.Core.Ledger;

namespace ShardedLedger.Tests;

/// <summary>Customers with known balances, and the model of what payments must do to them.</summary>
internal sealed class Books
{
    private readonly Dictionary<UInt128, Int128> _expected = [];

    private Books(UInt128[] customers) => Customers = customers;

    public UInt128[] Customers { get; }

    public Int128 Issued { get; private set; }

    /// <summary>Creates <paramref name="count"/> customers with ids from <paramref name="firstId"/> up and issues each <paramref name="balance"/>.</summary>
    public static async Task<Books> OpenAsync(LocalCluster cluster, UInt128 firstId, int count, long balance, UInt128 firstPaymentId)
    {
        var books = new Books(Enumerable.Range(0, count).Select(i => firstId + (uint)i).ToArray());
        CreateAccountResult[] created = await cluster.Client.CreateAccountsAsync(books.Customers, AccountFlags.DebitsMustNotExceedCredits);
        Assert.All(created, r => Assert.Equal(CreateAccountResult.Ok, r));
        CreateTransferResult[] issued = await cluster.Client.IssueAsync(books.Customers.Select((c, i) => new Payment(firstPaymentId + (uint)i, 0, c, (UInt128)balance)).ToArray());
        Assert.All(issued, r => Assert.Equal(CreateTransferResult.Ok, r));
        foreach (UInt128 c in books.Customers)
        {
            books._expected[c] = balance;
        }

        books.Issued = (Int128)balance * count;
        return books;
    }

    /// <summary>Applies what the outcomes say happened to the model.</summary>
    public void Apply(IReadOnlyList<Payment> payments, IReadOnlyList<PaymentOutcome> outcomes)
    {
        for (int i = 0; i < payments.Count; i++)
        {
            if (outcomes[i].Status == PaymentStatus.Committed)
            {
                _expected[payments[i].Payer] -= (Int128)payments[i].Amount;
                _expected[payments[i].Payee] += (Int128)payments[i].Amount;
            }
        }
    }

    /// <summary>The customers whose balance on the shards differs from the model.</summary>
    public async Task<List<string>> MismatchesAsync(LocalCluster cluster)
    {
        Account[][] shards = await cluster.Client.ReadAccountsAsync();
        var actual = shards.SelectMany(s => s).ToDictionary(a => a.Id, a => (Int128)a.CreditsPosted - (Int128)a.DebitsPosted);
        return Customers.Where(c => actual[c] != _expected[c]).Select(c => $"{c}: expected {_expected[c]}, found {actual[c]}").ToList();
    }
}
