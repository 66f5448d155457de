using System.Globalization;
using System.Text;
using Micropay.Core.Ledger;

namespace ShardedLedger;

/// <summary>
/// The books across all shards, checked: what must hold once every payment is resolved, and what was found.
/// </summary>
/// <remarks>
/// Checked: (1) on each shard, debits equal credits (posted and pending); (2) nothing is pending anywhere; (3) the
/// bridge accounts net to zero over all shards (each committed payment credits the payer shard's bridge and debits the
/// payee shard's by the same amount); (4) customers hold exactly what the treasuries issued; (5) the journal has no
/// payment in doubt; (6) every committed payment is posted on both sides and every aborted one on neither.
/// </remarks>
public sealed class ConservationReport
{
    private ConservationReport()
    {
    }

    /// <summary>The violations found (empty when the books hold).</summary>
    public IReadOnlyList<string> Violations { get; private init; } = [];

    /// <summary>Whether every check held.</summary>
    public bool Holds => Violations.Count == 0;

    /// <summary>Customers' net balance summed over all shards.</summary>
    public Int128 CustomerTotal { get; private init; }

    /// <summary>What the treasuries issued (minus their net balances).</summary>
    public Int128 Issued { get; private init; }

    /// <summary>The bridges' net balances summed over all shards.</summary>
    public Int128 BridgeTotal { get; private init; }

    /// <summary>Pending debits summed over all accounts of all shards.</summary>
    public UInt128 PendingTotal { get; private init; }

    /// <summary>Journaled payments committed.</summary>
    public int Committed { get; private init; }

    /// <summary>Journaled payments aborted.</summary>
    public int Aborted { get; private init; }

    /// <summary>Journaled payments not resolved.</summary>
    public int InDoubt { get; private init; }

    /// <summary>Builds the report.</summary>
    /// <param name="shards">Each shard's accounts.</param>
    /// <param name="journal">Every journaled cross-shard payment.</param>
    /// <param name="resolutions">The resolution transfers found on the shards, by id.</param>
    /// <returns>The report.</returns>
    public static ConservationReport Build(Account[][] shards, IReadOnlyList<JournalRow> journal, IReadOnlyDictionary<UInt128, Transfer> resolutions)
    {
        ArgumentNullException.ThrowIfNull(shards);
        ArgumentNullException.ThrowIfNull(journal);
        ArgumentNullException.ThrowIfNull(resolutions);
        var violations = new List<string>();
        Int128 customers = 0, treasuries = 0, bridges = 0;
        UInt128 pending = 0;
        for (int s = 0; s < shards.Length; s++)
        {
            UInt128 dp = 0, cp = 0, dpe = 0, cpe = 0;
            foreach (Account a in shards[s])
            {
                dp += a.DebitsPosted;
                cp += a.CreditsPosted;
                dpe += a.DebitsPending;
                cpe += a.CreditsPending;
                Int128 net = (Int128)a.CreditsPosted - (Int128)a.DebitsPosted;
                if (a.Id == ShardMap.BridgeAccount(s))
                {
                    bridges += net;
                }
                else if (a.Id == ShardMap.TreasuryAccount(s))
                {
                    treasuries += net;
                }
                else
                {
                    customers += net;
                }
            }

            pending += dpe;
            if (dp != cp || dpe != cpe)
            {
                violations.Add(Say($"shard {s}: debits {dp} + {dpe} pending, credits {cp} + {cpe} pending"));
            }
        }

        if (pending != 0)
        {
            violations.Add(Say($"{pending} still pending across shards"));
        }

        if (bridges != 0)
        {
            violations.Add(Say($"bridge accounts net {bridges} across shards, not 0"));
        }

        if (customers != -treasuries)
        {
            violations.Add(Say($"customers hold {customers} but the treasuries issued {-treasuries}"));
        }

        int committed = 0, aborted = 0, inDoubt = 0;
        foreach (JournalRow row in journal)
        {
            bool payerPosted = Posted(resolutions, ShardMap.TransferId(row.Payment.Id, PaymentStep.PayerResolution));
            bool payeePosted = Posted(resolutions, ShardMap.TransferId(row.Payment.Id, PaymentStep.PayeeResolution));
            switch (row.State)
            {
                case JournalState.Committed:
                    committed++;
                    if (!payerPosted || !payeePosted)
                    {
                        violations.Add(Say($"payment {row.Payment.Id} committed but posted on payer side {payerPosted}, payee side {payeePosted}"));
                    }

                    break;
                case JournalState.Aborted:
                    aborted++;
                    if (payerPosted || payeePosted)
                    {
                        violations.Add(Say($"payment {row.Payment.Id} aborted but posted on payer side {payerPosted}, payee side {payeePosted}"));
                    }

                    break;
                default:
                    inDoubt++;
                    violations.Add(Say($"payment {row.Payment.Id} still in doubt ({row.State})"));
                    break;
            }
        }

        return new ConservationReport
        {
            Violations = violations,
            CustomerTotal = customers,
            Issued = -treasuries,
            BridgeTotal = bridges,
            PendingTotal = pending,
            Committed = committed,
            Aborted = aborted,
            InDoubt = inDoubt,
        };

        static bool Posted(IReadOnlyDictionary<UInt128, Transfer> found, UInt128 id) =>
            found.TryGetValue(id, out Transfer t) && (t.Flags & TransferFlags.PostPendingTransfer) != 0;
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var text = new StringBuilder(Say($"customers {CustomerTotal}, issued {Issued}, bridges {BridgeTotal}, pending {PendingTotal}; journal: {Committed} committed, {Aborted} aborted, {InDoubt} in doubt"));
        foreach (string v in Violations.Take(20))
        {
            text.Append("\n  violation: ").Append(v);
        }

        return text.ToString();
    }

    private static string Say(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
