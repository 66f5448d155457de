// QuickStart: the Micropay.Core ledger engine in one page.
//
// A coffee shop sells by the sip. An operator (the bank) funds a user's wallet; the user pays the merchant once
// directly, then through a hold (an authorisation) that is captured for less than was held, and leaves another hold
// to expire. Along the way the sample shows the two guarantees payments rely on: a retried transfer is never applied
// twice, and a transfer that failed stays failed. Then it shows what the engine adds to the ledger: any number of
// threads may pay at once, and everything acknowledged survives a restart.
//
// Every result is checked. CI runs this program: any unexpected result makes it exit with code 1.
//
// Amounts are integers in the ledger's smallest unit; here 1 unit = 1/1000 of a cent ("millicent"), so a
// micropayment of a fraction of a cent is still a whole number.

using System.Globalization;
using Micropay.Core.Engine;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

// ---------------------------------------------------------------------------------------------------------
// Ids and codes are chosen by the application. Ids are the idempotency keys: in a real application they come
// from your database or are random 128-bit values (e.g. a UUIDv7), never reused for another purpose.
// ---------------------------------------------------------------------------------------------------------
const uint Eur = 978;          // the ledger (currency) every account and transfer below belongs to
const ushort OperatorCode = 1; // account codes: what kind of account this is (application-defined)
const ushort WalletCode = 2;
const ushort MerchantCode = 3;
const ushort PaymentCode = 10; // transfer codes: why the money moved (application-defined)
const ushort TopUpCode = 11;

UInt128 bankId = 1001;
UInt128 walletId = 2001;
UInt128 merchantId = 3001;
UInt128[] allIds = [bankId, walletId, merchantId];

// The engine journals every batch in a FileLedgerStore: a directory of append-only, checksummed segment files.
// The sample uses a fresh temporary directory and deletes it at the end; an application keeps its directory.
string directory = Path.Combine(Path.GetTempPath(), "micropay-quickstart-" + Guid.NewGuid().ToString("N"));

// The engine stamps each batch with the time of its TimeProvider (the system clock by default). The ledger's
// logical clock, and so every hold's timeout, follows those stamps. A clock the sample moves by hand (ManualClock,
// at the end of this file) lets a hold expire on cue, and makes every run stamp the same times.
var clock = new ManualClock(new DateTimeOffset(2025, 1, 1, 9, 0, 0, TimeSpan.Zero));

LedgerEngineOptions Options() => new()
{
    Store = new FileLedgerStore(directory), // the engine opens the store, owns it and disposes it with itself
    TimeProvider = clock,
    // Durability = DurabilityMode.Durable is the default: a call completes only once its batch is fsynced.
};

// OpenAsync recovers whatever the directory holds (nothing yet) and starts the engine's two threads: the single
// writer that applies batches and the publisher that makes them durable and releases their results.
LedgerEngine engine = await LedgerEngine.OpenAsync(Options());
try
{
    // -----------------------------------------------------------------------------------------------------
    // 1. Accounts: one batch, one result per account.
    // -----------------------------------------------------------------------------------------------------
    Account[] accounts =
    [
        // The operator's own account: it issues the money (its debits exceed its credits), so it has no limit flag.
        new Account { Id = bankId, LedgerId = Eur, Code = OperatorCode },

        // The user's wallet may never spend more than was paid into it: the ledger enforces
        // DebitsPending + DebitsPosted <= CreditsPosted on every transfer (holds count against the limit too).
        new Account { Id = walletId, LedgerId = Eur, Code = WalletCode, Flags = AccountFlags.DebitsMustNotExceedCredits },

        new Account { Id = merchantId, LedgerId = Eur, Code = MerchantCode },
    ];
    var accountResults = new CreateAccountResult[accounts.Length];

    // A batch submission is applied whole, in one ledger batch and one fsync. The call completes once it is durable.
    Expect(await engine.CreateAccountsAsync(accounts, accountResults), 0, "accounts not created");
    for (int i = 0; i < accounts.Length; i++)
    {
        Expect(accountResults[i], CreateAccountResult.Ok, $"create account {accounts[i].Id}");
    }

    Step("Created the operator, a wallet (DebitsMustNotExceedCredits) and a merchant.");

    // -----------------------------------------------------------------------------------------------------
    // 2. A batch of transfers: top up the wallet, then pay for a coffee in a single phase.
    //    Transfers in a batch are applied in order, so the payment already sees the top-up.
    // -----------------------------------------------------------------------------------------------------
    Transfer topUp = new()
    {
        Id = 1,
        DebitAccountId = bankId,
        CreditAccountId = walletId,
        Amount = 500_000, // 5.00 EUR
        LedgerId = Eur,
        Code = TopUpCode,
    };
    Transfer coffee = new()
    {
        Id = 2,
        DebitAccountId = walletId,
        CreditAccountId = merchantId,
        Amount = 250_000, // 2.50 EUR, posted at once (single-phase)
        LedgerId = Eur,
        Code = PaymentCode,
        UserData64 = 42, // opaque to the ledger, e.g. the order number
    };
    var transferResults = new CreateTransferResult[2];
    int failed = await engine.CreateTransfersAsync(new[] { topUp, coffee }, transferResults);
    Expect(transferResults[0], CreateTransferResult.Ok, "top up the wallet");
    Expect(transferResults[1], CreateTransferResult.Ok, "pay for a coffee");
    Expect(failed, 0, "failed transfers in the first batch");
    Step("Topped up 5.00 EUR and paid 2.50 EUR for a coffee.");

    // -----------------------------------------------------------------------------------------------------
    // 3. Idempotency: the network dropped the reply, so the client sends the coffee payment again. The same id
    //    with the same fields returns Exists and changes nothing: the user is charged once.
    // -----------------------------------------------------------------------------------------------------
    Expect(await engine.CreateTransferAsync(coffee), CreateTransferResult.Exists, "retry the coffee payment");
    Step("Retried the coffee payment: Exists, nothing charged twice.");

    // -----------------------------------------------------------------------------------------------------
    // 4. A hold (two-phase transfer): metered Wi-Fi reserves 1.00 EUR for up to 10 minutes. The amount moves into
    //    the pending balances; the wallet cannot spend it elsewhere meanwhile.
    // -----------------------------------------------------------------------------------------------------
    Transfer wifiHold = new()
    {
        Id = 3,
        DebitAccountId = walletId,
        CreditAccountId = merchantId,
        Amount = 100_000, // 1.00 EUR held
        LedgerId = Eur,
        Code = PaymentCode,
        Flags = TransferFlags.Pending,
        Timeout = 600, // seconds of the ledger's clock; if neither posted nor voided by then, the hold is released
    };
    Expect(await engine.CreateTransferAsync(wifiHold), CreateTransferResult.Ok, "place a hold");
    Step("Held 1.00 EUR for metered Wi-Fi (pending, expires in 600 s).");

    // Reads are lock-free and see every call that has completed, so the hold shows at once.
    PrintBalances(engine.ReadAllAccounts(), "Balances while the hold is open");

    // -----------------------------------------------------------------------------------------------------
    // 5. The session used only 0.60 EUR: post part of the hold. The posted amount moves to the posted balances and
    //    the remainder (0.40 EUR) is released back to the wallet. A post may leave the accounts, ledger and code
    //    zero: the ledger takes them from the pending transfer. (Amount = UInt128.MaxValue would post all of it;
    //    VoidPendingTransfer would release all of it.)
    // -----------------------------------------------------------------------------------------------------
    Transfer capture = new()
    {
        Id = 4,
        PendingId = wifiHold.Id,
        Amount = 60_000, // 0.60 EUR posted, 0.40 EUR released
        Flags = TransferFlags.PostPendingTransfer,
    };
    Expect(await engine.CreateTransferAsync(capture), CreateTransferResult.Ok, "post part of the hold");

    // A hold is posted or voided once; a second post of the same hold (with a new id) is refused.
    Transfer secondCapture = capture with { Id = 5 };
    Expect(await engine.CreateTransferAsync(secondCapture), CreateTransferResult.PendingTransferAlreadyPosted, "post the hold again");
    Step("Posted 0.60 EUR of the hold; 0.40 EUR released; a second post is refused.");

    // -----------------------------------------------------------------------------------------------------
    // 6. The wallet's limit: the user tries to pay 5.00 EUR with 1.90 EUR left. The transfer fails with
    //    ExceedsCredits, and because that outcome depends on the ledger's state (a "transient" failure) its id is
    //    burnt: retrying it fails with IdAlreadyFailed even after a top-up, so a payment the user was told failed
    //    can never go through later by surprise. A new attempt needs a new id.
    // -----------------------------------------------------------------------------------------------------
    Transfer tooMuch = coffee with { Id = 6, Amount = 500_000 };
    Expect(await engine.CreateTransferAsync(tooMuch), CreateTransferResult.ExceedsCredits, "overspend the wallet");
    Expect(await engine.CreateTransferAsync(tooMuch), CreateTransferResult.IdAlreadyFailed, "retry the overspend");
    Step("A 5.00 EUR payment failed with ExceedsCredits; its retry returns IdAlreadyFailed.");

    // -----------------------------------------------------------------------------------------------------
    // 7. A hold nobody resolves: a pre-order holds 0.50 EUR for 60 seconds, and the user never picks it up.
    // -----------------------------------------------------------------------------------------------------
    Transfer preOrderHold = wifiHold with { Id = 7, Amount = 50_000, Timeout = 60 };
    Expect(await engine.CreateTransferAsync(preOrderHold), CreateTransferResult.Ok, "place a 60 s hold");

    // A minute and a half passes. The ledger applies expiries at the start of each batch, so a due hold is
    // released by the next batch the engine applies; until then reads still show it held. (A busy engine applies
    // batches all the time; on an idle one, an expired hold stays visible until the next call.)
    clock.Advance(TimeSpan.FromSeconds(90));
    ExpectBalance(engine, walletId, posted: 190_000, pending: -50_000);

    // The next batch here is the shop's late attempt to capture: the batch first expires the hold (the wallet gets
    // its 0.50 EUR back), then the post finds it expired. Any other transfer would have expired it as well.
    Transfer lateCapture = capture with { Id = 8, PendingId = preOrderHold.Id, Amount = UInt128.MaxValue };
    Expect(await engine.CreateTransferAsync(lateCapture), CreateTransferResult.PendingTransferExpired, "post an expired hold");
    ExpectBalance(engine, walletId, posted: 190_000, pending: 0);
    Step("Held 0.50 EUR for 60 s; 90 s later the next batch released it, and a late post returns PendingTransferExpired.");

    // -----------------------------------------------------------------------------------------------------
    // 8. Read back: the stored post carries the accounts and amount taken from the hold.
    // -----------------------------------------------------------------------------------------------------
    Expect(engine.TryGetTransfer(capture.Id, out Transfer storedCapture), true, "look up the post");
    Expect(storedCapture.DebitAccountId, walletId, "debit account of the stored post");
    Expect(storedCapture.Amount, (UInt128)60_000, "amount of the stored post");
    PrintBalances(engine.ReadAllAccounts(), "Balances after the story");

    // Expected state, in millicents: the wallet got 500_000 and spent 250_000 + 60_000; nothing is pending.
    ExpectBalance(engine, bankId, posted: -500_000, pending: 0);
    ExpectBalance(engine, walletId, posted: 190_000, pending: 0);
    ExpectBalance(engine, merchantId, posted: 310_000, pending: 0);

    // -----------------------------------------------------------------------------------------------------
    // 9. What the engine adds (1): any number of callers at once. 1,000 tasks on the thread pool each pay one sip
    //    of 1 millicent. The engine gathers whatever arrived while the previous batch was being made durable
    //    into the next batch (group commit), so 1,000 payments cost far fewer fsyncs than 1,000.
    // -----------------------------------------------------------------------------------------------------
    const int Sips = 1_000;
    ulong batchesBefore = engine.ReleasedBatchNumber;

    // Meanwhile a reader checks double entry on lock-free reads: LookupAccounts returns all the accounts as of one
    // and the same batch, so it never sees a sip debited from the wallet but not yet credited to the merchant.
    // (Separate TryGetAccount calls, one per account, can straddle two batches and see exactly that.)
    using var paying = new CancellationTokenSource();
    Task<int> reader = Task.Run(() =>
    {
        var seen = new Account[allIds.Length];
        int views = 0;
        do
        {
            Expect(engine.LookupAccounts(allIds, seen), allIds.Length, "accounts found by the concurrent reader");
            Expect(SumOfNets(seen), (Int128)0, "sum of net balances in a concurrent read");
            views++;
        }
        while (!paying.IsCancellationRequested);
        return views;
    });

    Task<CreateTransferResult>[] sips = new Task<CreateTransferResult>[Sips];
    for (int i = 0; i < Sips; i++)
    {
        Transfer sip = coffee with { Id = (UInt128)(1_000_000 + i), Amount = 1, UserData64 = 0 };
        sips[i] = Task.Run(async () => await engine.CreateTransferAsync(sip));
    }

    CreateTransferResult[] sipResults = await Task.WhenAll(sips);
    await paying.CancelAsync();
    int readerViews = await reader;
    Expect(sipResults.Count(r => r == CreateTransferResult.Ok), Sips, "concurrent sips that returned Ok");
    Expect(readerViews > 0, true, "the concurrent reader ran");

    // Every sip arrived, exactly once: 0.01 EUR moved from the wallet to the merchant.
    ExpectBalance(engine, walletId, posted: 190_000 - Sips, pending: 0);
    ExpectBalance(engine, merchantId, posted: 310_000 + Sips, pending: 0);
    ulong sipBatches = engine.ReleasedBatchNumber - batchesBefore; // varies from run to run: timing decides
    Step($"{Sips:N0} concurrent callers each paid 1 millicent: all Ok, in {sipBatches} batch(es) (varies by run); balances add up in every read.");

    // -----------------------------------------------------------------------------------------------------
    // 10. What the engine adds (2): durability. Every call above completed only once its batch was fsynced, so
    //     closing the engine (or a crash) loses nothing acknowledged. Reopening the directory loads the latest
    //     snapshot, replays the journal after it, and rebuilds exactly the same ledger.
    // -----------------------------------------------------------------------------------------------------

    // A snapshot bounds the next open's work. Services usually set SnapshotIntervalBatches instead; either way
    // LatestSnapshotBatchNumber and LastSnapshotError show how snapshots fare (a periodic one has no caller to tell).
    ulong snapshotAt = await engine.TakeSnapshotAsync();
    Expect(engine.LatestSnapshotBatchNumber, snapshotAt, "the engine's latest snapshot");
    Expect(engine.LastSnapshotError is null, true, "no snapshot error");

    // One more payment after the snapshot, so the reopen below also replays the journal.
    Expect(await engine.CreateTransferAsync(coffee with { Id = 9, Amount = 1, UserData64 = 0 }), CreateTransferResult.Ok, "a sip after the snapshot");
    Account[] beforeRestart = engine.ReadAllAccounts();
    ulong lastBatch = engine.ReleasedBatchNumber;

    // DisposeAsync lets every accepted call finish, then closes the store; later calls would throw.
    await engine.DisposeAsync();
    engine = await LedgerEngine.OpenAsync(Options());

    Expect(engine.ReleasedBatchNumber, lastBatch, "last batch after reopening");
    Expect(engine.LatestSnapshotBatchNumber, snapshotAt, "the snapshot the reopened engine recovered from");
    Expect(engine.ReadAllAccounts().SequenceEqual(beforeRestart), true, "accounts after reopening equal those before");

    // Replay applies each batch with the timestamp journaled in its header, so transfers come back field for field.
    Expect(engine.TryGetTransfer(capture.Id, out Transfer recoveredCapture), true, "look up the post after reopening");
    Expect(recoveredCapture, storedCapture, "the post after reopening");

    // Idempotency and burnt ids survive the restart too: the ids are part of the recovered state.
    Expect(await engine.CreateTransferAsync(coffee), CreateTransferResult.Exists, "retry the coffee payment after reopening");
    Expect(await engine.CreateTransferAsync(tooMuch), CreateTransferResult.IdAlreadyFailed, "retry the overspend after reopening");
    Step($"Snapshot at batch {snapshotAt}, one more sip, closed and reopened (snapshot loaded, journal replayed after it): the same balances; retries still return Exists and IdAlreadyFailed.");

    PrintBalances(engine.ReadAllAccounts(), "Final balances, recovered after reopening");
    Expect(SumOfNets(engine.ReadAllAccounts()), (Int128)0, "sum of net balances (debits equal credits)");
    Console.WriteLine($"Engine: {engine.ReadAllAccounts().Length} accounts, all results as expected.");
    return 0;
}
catch (UnexpectedResultException e)
{
    // Any unexpected result is a failure of the sample (and of CI).
    Console.Error.WriteLine("FAILED: " + e.Message);
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine("FAILED: " + e);
    return 1;
}
finally
{
    // Disposing twice is harmless: the second call waits for the first.
    await engine.DisposeAsync();
    Directory.Delete(directory, recursive: true);
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.
// ---------------------------------------------------------------------------------------------------------

// Prints each account's net balance (credits minus debits, as the account holder sees it) and its holds.
static void PrintBalances(Account[] accounts, string title)
{
    Console.WriteLine();
    Console.WriteLine(title + " (EUR):");
    Console.WriteLine($"  {"account",-10} {"debits",10} {"credits",10} {"net",10} {"held out",10} {"held in",10} {"available",10}");
    foreach (Account a in accounts)
    {
        // Available = what the holder can still spend: net posted balance minus what is held against it.
        Int128 net = Net(a);
        Int128 available = net - (Int128)a.DebitsPending;
        Console.WriteLine(
            $"  {Name(a.Code),-10} {Money((Int128)a.DebitsPosted),10} {Money((Int128)a.CreditsPosted),10} {Money(net),10} " +
            $"{Money((Int128)a.DebitsPending),10} {Money((Int128)a.CreditsPending),10} {Money(available),10}");
    }

    Console.WriteLine();
}

static Int128 Net(in Account a) => (Int128)a.CreditsPosted - (Int128)a.DebitsPosted;

// Double entry: every transfer debits one account and credits another by the same amount, so over all accounts
// the net balances sum to zero. Only a consistent view (one batch boundary) is guaranteed to show that.
static Int128 SumOfNets(ReadOnlySpan<Account> accounts)
{
    Int128 sum = 0;
    foreach (Account a in accounts)
    {
        sum += Net(a);
    }

    return sum;
}

static string Name(ushort code) => code switch
{
    OperatorCode => "operator",
    WalletCode => "wallet",
    MerchantCode => "merchant",
    _ => code.ToString(CultureInfo.InvariantCulture),
};

// Millicents to euros with two decimals (the amounts in this sample are whole cents).
static string Money(Int128 millicents) =>
    ((decimal)millicents / 100_000m).ToString("0.00", CultureInfo.InvariantCulture);

static void ExpectBalance(LedgerEngine engine, UInt128 id, Int128 posted, Int128 pending)
{
    // LookupAccounts is the batch form of TryGetAccount: it returns the accounts found, in the order asked.
    Span<Account> found = new Account[1];
    Expect(engine.LookupAccounts([id], found), 1, $"look up account {id}");
    Expect(Net(found[0]), posted, $"net posted balance of account {id}");
    Expect((Int128)found[0].CreditsPending - (Int128)found[0].DebitsPending, pending, $"net pending balance of account {id}");
}

static void Step(string message) => Console.WriteLine("ok  " + message);

// Any unexpected result stops the sample, saying what was expected.
static void Expect<T>(T actual, T expected, string what)
{
    if (!EqualityComparer<T>.Default.Equals(actual, expected))
    {
        throw new UnexpectedResultException($"{what}: expected {expected}, got {actual}.");
    }
}

/// <summary>
/// A clock that moves only when told to. The engine reads it on its apply thread while the sample advances it on
/// the main thread, hence the interlocked reads and writes.
/// </summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    /// <summary>Moves the clock forward.</summary>
    /// <param name="by">How far.</param>
    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}

/// <summary>A result the sample did not expect.</summary>
internal sealed class UnexpectedResultException(string message) : Exception(message);
