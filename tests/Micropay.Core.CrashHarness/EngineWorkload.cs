using System.Globalization;
using System.Text;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Engine;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;
using static Micropay.Core.Tests.Records;

namespace Micropay.Core.CrashHarness;

/// <summary>
/// The harness's <c>engine</c> mode: a durable <see cref="LedgerEngine"/> under concurrent load until the process is
/// killed. Prints <c>start N</c> once open (N: the released batch number after the open, which is the recovered
/// journal's last batch, plus the SetInstanceId batch when the open gave the ledger its instance id), then one line
/// <c>&lt;transfer id&gt; &lt;result&gt;</c> per acknowledged transfer, written and flushed only after its call
/// completed, so every line the parent reads is a result the engine released.
/// </summary>
/// <remarks>
/// <para>One more task pays through a channel: each run opens a channel of its own (salt: the round) from account 1 to
/// account 2 and redeems vouchers on two lanes with increasing sequences and amounts, each voucher once, until the
/// deposit runs out (then <c>ExceedsDeposit</c>) and on. It prints <c>r &lt;channel id&gt; &lt;lane&gt; &lt;sequence&gt;
/// &lt;cumulative&gt; &lt;ChannelResult&gt;</c> per acknowledged redemption, and <c>o &lt;channel id&gt; &lt;ChannelResult&gt;</c>
/// for the open.</para>
/// <para>And one more signs payment orders from account 3 to account 4 with a device key registered to account 3 under a
/// rolling window (<see cref="OrderWindowLimit"/> per <see cref="OrderWindowLength"/>), so the limit is reached and the
/// window spans kills and recoveries. It prints <c>k &lt;KeyResult&gt;</c> for the registration (Ok the first time,
/// Exists after), <c>q &lt;order id&gt;</c> before submitting each order (so the parent knows every id that may exist) and
/// <c>p &lt;order id&gt; &lt;amount&gt; &lt;OrderResult&gt;</c> once its call completed.</para>
/// Transfer ids are <c>(round + 1) &lt;&lt; 48 | (submitter + 1) &lt;&lt; 40 | counter</c>, so no two runs on one
/// directory share an id (the parent passes a new round number each run); the funding transfers (ids below 100) are
/// the same every run, so after the first successful run they come back as Exists.
/// </remarks>
internal static class EngineWorkload
{
    /// <summary>Accounts 1 to 16: 1-4 unlimited, 5-12 may not overdraw (funded by 1-4), 13-16 may not be over-credited (they pay out first).</summary>
    public const int AccountCount = 16;

    private const int Submitters = 4;
    private const ulong ChannelDeposit = 20_000;

    // A fixed payer key (every run signs with it; the parent needs no secret to check what was redeemed).
    private static readonly SigningKey PayerKey = SigningKey.Import(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray(), SigningKeyFormat.RawSeed);
    private const ulong UnknownAccount = 1_000;

    /// <summary>The device key's window: the parent checks every window of the ledger's order transfers against it.</summary>
    public const ulong OrderWindowLength = 3UL * 1_000_000_000;

    /// <summary>The device key's window limit: low enough that a loaded machine (a dozen orders in a window) still reaches it.</summary>
    public const ulong OrderWindowLimit = 500;

    // A fixed device key for the orders, registered to account 3.
    private static readonly SigningKey DeviceKey = SigningKey.Import(Enumerable.Range(1, 32).Select(i => (byte)(i * 5)).ToArray(), SigningKeyFormat.RawSeed);

    private static readonly object OutputLock = new();

    public static async Task<int> RunAsync(string directory, int snapshotInterval, ulong round, DurabilityMode durability)
    {
        await using LedgerEngine engine = await LedgerEngine.OpenAsync(new LedgerEngineOptions
        {
            Store = new FileLedgerStore(directory),
            Durability = durability,
            SnapshotIntervalBatches = snapshotInterval,
        });

        Write("start " + engine.ReleasedBatchNumber.ToString(CultureInfo.InvariantCulture) + "\n");
        if (engine.ReadAllAccounts().Length == 0)
        {
            Account[] accounts = [.. Enumerable.Range(1, AccountCount).Select(i => Acct((UInt128)i, FlagsOf(i)))];
            var results = new CreateAccountResult[accounts.Length];
            if (await engine.CreateAccountsAsync(accounts, results) != 0)
            {
                Console.Error.WriteLine("creating the accounts failed: " + string.Join(", ", results));
                return 3;
            }
        }

        Transfer[] funding =
        [
            .. Enumerable.Range(5, 8).Select(i => Tr((UInt128)i, (UInt128)(1 + (i % 4)), (UInt128)i, 1_000)),
            .. Enumerable.Range(13, 4).Select(i => Tr((UInt128)i, (UInt128)i, (UInt128)(i - 12), 1_000)),
        ];
        await SubmitBatchAsync(engine, funding);

        Task[] loops = new Task[Submitters + 2];
        for (int s = 0; s < Submitters; s++)
        {
            int submitter = s;
            loops[s] = Task.Run(() => SubmitForeverAsync(engine, round, submitter));
        }

        loops[Submitters] = Task.Run(() => RedeemForeverAsync(engine, round));
        loops[Submitters + 1] = Task.Run(() => OrderForeverAsync(engine, round));

        // The loops end only by failing (the engine never stops otherwise): report the first failure.
        Task failed = await Task.WhenAny(loops);
        await failed;
        return 4;
    }

    private static AccountFlags FlagsOf(int id) => id switch
    {
        >= 5 and <= 12 => AccountFlags.DebitsMustNotExceedCredits,
        >= 13 => AccountFlags.CreditsMustNotExceedDebits,
        _ => AccountFlags.None,
    };

    private static async Task SubmitForeverAsync(LedgerEngine engine, ulong round, int submitter)
    {
        var random = new Random(HashCode.Combine(round, submitter));
        UInt128 nextId = ((UInt128)(round + 1) << 48) | ((UInt128)(ulong)(submitter + 1) << 40);
        var acknowledged = new List<Transfer>();
        var holds = new List<Transfer>();
        while (true)
        {
            int dice = random.Next(100);
            if (dice < 35)
            {
                Transfer transfer = RandomTransfer(random, nextId++);
                if (await SubmitAsync(engine, transfer) == CreateTransferResult.Ok)
                {
                    acknowledged.Add(transfer);
                }
            }
            else if (dice < 60)
            {
                var batch = new Transfer[random.Next(2, 33)];
                for (int i = 0; i < batch.Length; i++)
                {
                    batch[i] = RandomTransfer(random, nextId++);
                    if (i < batch.Length - 1 && random.Next(5) == 0)
                    {
                        batch[i].Flags |= TransferFlags.Linked;
                    }
                }

                await SubmitBatchAsync(engine, batch);
            }
            else if (dice < 68)
            {
                Transfer unknown = RandomTransfer(random, nextId++);
                unknown.CreditAccountId = UnknownAccount;
                await SubmitAsync(engine, unknown);
            }
            else if (dice < 75 && acknowledged.Count > 0)
            {
                // A retry of an acknowledged transfer: Exists, in this run or after any number of crashes.
                await SubmitAsync(engine, acknowledged[random.Next(acknowledged.Count)]);
            }
            else if (dice < 88)
            {
                Transfer hold = RandomTransfer(random, nextId++);
                hold.Flags = TransferFlags.Pending;
                if (await SubmitAsync(engine, hold) == CreateTransferResult.Ok)
                {
                    holds.Add(hold);
                }
            }
            else if (holds.Count > 0)
            {
                int pick = random.Next(holds.Count);
                Transfer hold = holds[pick];
                holds.RemoveAt(pick);
                bool post = random.Next(2) == 0;
                await SubmitAsync(engine, new Transfer
                {
                    Id = nextId++,
                    PendingId = hold.Id,
                    Amount = post ? UInt128.MaxValue : 0,
                    Flags = post ? TransferFlags.PostPendingTransfer : TransferFlags.VoidPendingTransfer,
                });
            }
        }
    }

    /// <summary>Opens this run's channel, then redeems vouchers on two lanes, each once, forever.</summary>
    private static async Task RedeemForeverAsync(LedgerEngine engine, ulong round)
    {
        ChannelConfig config = ChannelConfig.CreateCumulative(
            engine.InstanceId, 1, 2, 1, PayerKey.VerificationKey, ulong.MaxValue - 1, 60UL * 1_000_000_000, (UInt128)round + 1);
        ChannelResult opened = await engine.OpenChannelAsync(ChannelOpenRequest.Sign(PayerKey, config, ChannelDeposit));
        Write("o " + config.Id.ToString(CultureInfo.InvariantCulture) + " " + opened.ToString() + "\n");
        if (opened != ChannelResult.Ok)
        {
            throw new InvalidOperationException("opening the run's channel failed: " + opened);
        }

        var random = new Random((int)round);
        var cumulative = new UInt128[2];
        for (ulong sequence = 1; ; sequence++)
        {
            uint lane = (uint)random.Next(2);
            cumulative[lane] += (UInt128)random.Next(1, 100);
            Voucher voucher = Voucher.Sign(PayerKey, engine.InstanceId, config.Id, lane, sequence, cumulative[lane], ulong.MaxValue);
            ChannelResult result = await engine.RedeemVoucherAsync(voucher);
            Write(string.Create(CultureInfo.InvariantCulture, $"r {config.Id} {lane} {sequence} {cumulative[lane]} {result}\n"));
        }
    }

    /// <summary>Registers the device key (once per directory), then pays orders of random amounts, each id once, forever.</summary>
    private static async Task OrderForeverAsync(LedgerEngine engine, ulong round)
    {
        KeyResult registered = await engine.RegisterKeyAsync(3, DeviceKey.VerificationKey, new SpendingPolicy { WindowLimit = OrderWindowLimit, WindowLength = OrderWindowLength });
        Write("k " + registered.ToString() + "\n");
        if (registered is not (KeyResult.Ok or KeyResult.Exists))
        {
            throw new InvalidOperationException("registering the device key failed: " + registered);
        }

        var random = new Random((int)round + 7);
        UInt128 nextId = ((UInt128)(round + 1) << 48) | ((UInt128)0xFFUL << 40);
        while (true)
        {
            UInt128 id = nextId++;
            UInt128 amount = (UInt128)random.Next(1, 100);
            Write(string.Create(CultureInfo.InvariantCulture, $"q {id}\n"));
            OrderResult result = await engine.ExecuteOrderAsync(PaymentOrder.Sign(DeviceKey, engine.InstanceId, Tr(id, 3, 4, amount), ulong.MaxValue));
            Write(string.Create(CultureInfo.InvariantCulture, $"p {id} {amount} {result}\n"));
        }
    }

    private static Transfer RandomTransfer(Random random, UInt128 id)
    {
        int debit = random.Next(1, AccountCount + 1);
        int credit = random.Next(1, AccountCount);
        credit = credit >= debit ? credit + 1 : credit;
        return Tr(id, (UInt128)debit, (UInt128)credit, (UInt128)random.Next(1, 50));
    }

    private static async Task<CreateTransferResult> SubmitAsync(LedgerEngine engine, Transfer transfer)
    {
        CreateTransferResult result = await engine.CreateTransferAsync(transfer);
        Write(Line(transfer.Id, result));
        return result;
    }

    private static async Task SubmitBatchAsync(LedgerEngine engine, Transfer[] batch)
    {
        var results = new CreateTransferResult[batch.Length];
        await engine.CreateTransfersAsync(batch, results);
        var lines = new StringBuilder();
        for (int i = 0; i < batch.Length; i++)
        {
            lines.Append(Line(batch[i].Id, results[i]));
        }

        Write(lines.ToString());
    }

    private static string Line(UInt128 id, CreateTransferResult result) =>
        id.ToString(CultureInfo.InvariantCulture) + " " + result.ToString() + "\n";

    /// <summary>Writes whole lines and flushes them before returning: a kill can cut only the lines still being written.</summary>
    private static void Write(string lines)
    {
        lock (OutputLock)
        {
            Console.Out.Write(lines);
            Console.Out.Flush();
        }
    }
}
