// DeviceMesh: the whole mission in one run. Simulated IoT devices, each with its own Ed25519 identity registered to its
// account with a spending policy, pay each other and metered services many times a second through payment channels:
// signed cumulative vouchers and hash-chain ticks, each verified offline by the payee with nothing but the channel's
// certificate. The durable ledger (embedded file store, audit log on) sees only the channel opens, a periodic
// settlement of what the payees hold, and the rare event that needs it: midway a device is stolen and its key revoked
// (the thief's next order is refused, its channels start closing), and a large purchase needs the owner's co-signature.
// At the end the books must balance, a receipt is checked offline with the ledger's published key alone, and the whole
// journal is audited offline.
//
// Run it: dotnet run --project samples/DeviceMesh -c Release   (add -- --help for the options)
//
// Every result is checked. CI runs this program: any unexpected result makes it exit with code 1.
// Amounts are integers in the ledger's smallest unit, 1/1000 of a cent ("millicent"), as in the other samples.

using System.Diagnostics;
using System.Globalization;
using DeviceMesh;
using Micropay.Core.Engine;
using Spectre.Console;

MeshOptions? options = MeshOptions.Parse(args, out bool help, out string? usageError);
if (help)
{
    Console.WriteLine(MeshOptions.Help);
    return 0;
}

if (options is null)
{
    Console.Error.WriteLine(usageError);
    return 2;
}

// Live rendering needs a terminal; redirected output (CI, a pipe) gets one plain line per step instead.
bool live = !options.Plain && AnsiConsole.Profile.Capabilities.Interactive;
var clock = Stopwatch.StartNew();
var events = new List<string>();
await using var mesh = new Mesh(options);
try
{
    Say($"[bold]DeviceMesh[/]: {options.Devices:N0} devices, {options.Services} services, {options.Rounds} rounds, seed {options.Seed}.");
    await mesh.SetUpAsync();
    Say($"Ledger open (durable, file store, audit log on); {options.Devices:N0} device keys registered with spending policies; " +
        $"{mesh.Stats.ChannelsOpened:N0} channels opened and certified in {clock.Elapsed.TotalSeconds:0.0} s.");

    var paying = Stopwatch.StartNew();
    if (live)
    {
        Table table = StatsTable(mesh.Stats, paying.Elapsed, options.Rounds);
        await AnsiConsole.Live(table).StartAsync(async context =>
        {
            await RunRoundsAsync(() =>
            {
                Table updated = StatsTable(mesh.Stats, paying.Elapsed, options.Rounds);
                context.UpdateTarget(updated);
                context.Refresh();
            });
        });
    }
    else
    {
        await RunRoundsAsync(() => Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"round {mesh.Stats.Rounds}/{options.Rounds}: {mesh.Stats.VouchersVerified:N0} vouchers and {mesh.Stats.TicksVerified:N0} ticks verified offline, {mesh.Stats.Redemptions:N0} redeemed")));
    }

    TimeSpan payingTime = paying.Elapsed;
    foreach (string e in events)
    {
        Say(e);
    }

    Say(await mesh.CloseAndCheckBooksAsync());
    Say(mesh.VerifyReceipt());

    AuditReport report;
    if (live)
    {
        report = await AnsiConsole.Progress().StartAsync(async context =>
        {
            ProgressTask task = context.AddTask("Auditing the journal offline", maxValue: 1);
            return await mesh.AuditAsync(new SynchronousProgress(p => task.Value = p.BytesTotal == 0 ? 1 : (double)p.BytesDone / p.BytesTotal));
        });
    }
    else
    {
        report = await mesh.AuditAsync(null);
    }

    Say($"Audit: {report}.");
    PrintSummary(mesh.Stats, payingTime, clock.Elapsed);
    Say("[green]All results as expected.[/]");
    return 0;
}
catch (UnexpectedResultException e)
{
    Console.Error.WriteLine("FAILED: " + e.Message);
    return 1;
}
catch (AggregateException e) when (e.InnerExceptions.All(inner => inner is UnexpectedResultException))
{
    // A check that failed inside a round's parallel payments.
    Console.Error.WriteLine("FAILED: " + string.Join(" ", e.InnerExceptions.Select(inner => inner.Message)));
    return 1;
}
catch (Exception e)
{
    Console.Error.WriteLine("FAILED: " + e);
    return 1;
}

// The rounds, with the revocation and the step-up purchase midway and a settlement every few rounds.
async Task RunRoundsAsync(Action refresh)
{
    for (int round = 0; round < options.Rounds; round++)
    {
        mesh.PayRound(round);
        if (round == options.Rounds / 2)
        {
            events.Add(await mesh.RevokeStolenAsync());
            events.Add(await mesh.StepUpPurchaseAsync());
        }

        if ((round + 1) % options.SettleEvery == 0)
        {
            await mesh.SettleAsync();
        }

        refresh();
    }
}

void Say(string markup)
{
    if (live)
    {
        AnsiConsole.MarkupLine(markup);
    }
    else
    {
        Console.WriteLine(Markup.Remove(markup));
    }
}

static Table StatsTable(MeshStats stats, TimeSpan elapsed, int rounds)
{
    double seconds = Math.Max(elapsed.TotalSeconds, 1e-3);
    Table table = new Table().Border(TableBorder.Rounded).Title($"Paying: round {stats.Rounds} of {rounds}");
    table.AddColumn("");
    table.AddColumn(new TableColumn("count").RightAligned());
    table.AddColumn(new TableColumn("per second").RightAligned());
    table.AddRow("vouchers signed and verified offline", $"{stats.VouchersVerified:N0}", $"{stats.VouchersVerified / seconds:N0}");
    table.AddRow("hash-chain ticks verified offline", $"{stats.TicksVerified:N0}", $"{stats.TicksVerified / seconds:N0}");
    table.AddRow("redemptions settled on the ledger", $"{stats.Redemptions:N0}", $"{stats.Redemptions / seconds:N0}");
    table.AddRow("settlements", $"{stats.Settlements:N0}", "");
    table.AddRow("devices revoked", $"{stats.Revoked}", "");
    return table;
}

void PrintSummary(MeshStats stats, TimeSpan paying, TimeSpan total)
{
    double seconds = Math.Max(paying.TotalSeconds, 1e-3);
    long payments = stats.VouchersVerified + stats.TicksVerified;
    var rows = new (string Name, string Value)[]
    {
        ("devices / services / channels", $"{options.Devices:N0} / {options.Services} / {stats.ChannelsOpened:N0}"),
        ("payments (vouchers + ticks)", $"{payments:N0} in {paying.TotalSeconds:0.0} s: {payments / seconds:N0}/s"),
        ("signatures verified offline (vouchers)", $"{stats.VouchersVerified:N0}"),
        ("hash-chain ticks verified offline", $"{stats.TicksVerified:N0}"),
        ("payments declined (channel spent)", $"{stats.VouchersDeclined:N0}"),
        ("paid offline, settled on the ledger", $"{Mesh.Money(stats.PaidOffline)} EUR"),
        ("redemptions (ledger transfers)", $"{stats.Redemptions:N0} in {stats.Settlements} settlements"),
        ("ledger events (audit leaves)", $"{stats.AuditLeaves:N0}"),
        ("signatures re-verified by the audit", $"{stats.SignaturesReverified:N0}"),
        ("bytes on disk (journal + audit)", $"{stats.BytesOnDisk:N0}"),
        ("payments per ledger event", $"{(double)payments / Math.Max(1, stats.AuditLeaves):N1}"),
        ("total time", $"{total.TotalSeconds:0.0} s"),
    };
    if (live)
    {
        Table table = new Table().Border(TableBorder.Rounded).Title("Summary");
        table.AddColumn("");
        table.AddColumn(new TableColumn("").RightAligned());
        foreach ((string name, string value) in rows)
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        }

        AnsiConsole.Write(table);
    }
    else
    {
        Console.WriteLine("Summary:");
        foreach ((string name, string value) in rows)
        {
            Console.WriteLine($"  {name,-42} {value}");
        }
    }
}

/// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool, after the audit returned).</summary>
internal sealed class SynchronousProgress(Action<AuditProgress> report) : IProgress<AuditProgress>
{
    public void Report(AuditProgress value) => report(value);
}
