using System.Globalization;
using System.Text;

namespace Micropay.Core.Tests.Soak;

/// <summary>
/// Turns the soak run's samples into growth per hour for each resource, splits each into what the data explains and
/// what it does not, and lists every check that failed.
/// </summary>
/// <remarks>
/// <para><b>Managed heap.</b> What the data explains is measured, not assumed: after the run the engine is disposed and
/// the same directory reopened, and the heap a fresh engine needs for exactly that data (<c>reopened - disposed</c>, so a
/// leak that outlives the engine cancels out of it) is spread over the run in proportion to the data present at each
/// sample (a weighted sum of accounts, transfers, burnt ids, channels, keys and expiry entries, with the weights of their
/// documented budgets: 512, 208, 32, 2048, 2048 and 32 bytes). The residual, heap minus that, should be flat; its
/// least-squares slope after warm-up is the unexplained growth. An empty engine's own heap (ring, buffers, pools: an open
/// of an empty directory) is taken out of the fresh open's first. Limit: 64 MiB/h or 25% of the explained growth, whichever
/// is larger. The relative part absorbs capacity steps: a table or index that doubles holds up to twice its rows'
/// share for a while, and the fresh open may size it differently; 64 MiB/h is 1.5 GiB a day, a leak by any measure, and
/// above this run's noise.</para>
/// <para><b>Managed heap in quiet phases.</b> After the warm-up, every other phase submits as much as a data phase but
/// only records already submitted, so nothing is stored: any growth there (less the few expiries and refunds the model
/// above explains, and after the first 10 s of each phase) is the engine's per-operation cost not being returned. Limit
/// 32 MiB/h: no model stands between the measurement and the verdict, so the limit is set just above this run's noise
/// (a few MiB/h; GC-compacted heaps move by tens of KiB between samples) and catches a leak of about 230 bytes a round
/// at 40 rounds a second.</para>
/// <para><b>Working set.</b> Explained by the managed heap's growth (judged above); the rest (native memory: libsodium,
/// thread stacks, the GC's own bookkeeping) may grow by at most 128 MiB/h, twice the heap's limit because the GC keeps
/// freed segments committed for a while.</para>
/// <para><b>Open files.</b> The data explains none: after warm-up the count may not rise by more than 16 (a segment
/// being created, a snapshot being written, readers) nor trend up by more than 60 an hour.</para>
/// <para><b>Journal.</b> Compaction after each snapshot bounds it: at every sample after warm-up the segments on disk
/// may hold at most what was journaled in the last two snapshot intervals plus one sample interval, plus two segments
/// (the active one and the one the latest snapshot falls in). Its bytes per event must stay the same (first half against
/// second half of the run after warm-up, within 25%).</para>
/// <para><b>Snapshots.</b> At most <c>SnapshotsToKeep</c> (2) plus one being written; the latest one's growth is the
/// data's, at most 256 bytes per transfer or burnt id and 1 KiB per account, channel or key, plus 8 MiB/h.</para>
/// <para><b>Audit log.</b> Tiles and checkpoints: at most 64 bytes per event (the tiles are 36) plus 8 MiB/h.</para>
/// <para><b>Expiry queues</b> (the known suspect, 4.10). Stale entries stay until they fall due, so at every sample after
/// warm-up the hold queue may hold at most the timed holds submitted within the longest timeout (60 s) plus 15 s, plus
/// 1,024, and the channel deadline queue two entries (expiry and settle deadline) per channel opened within the longest
/// channel lifetime (1 h) plus a minute, plus 64.</para>
/// </remarks>
internal sealed class SoakAnalysis
{
    private const double MiB = 1024 * 1024;

    // The first seconds of a quiet phase are not measured: the holds (1 to 3 s) and channels (2 s, 1 s settle delay) of
    // the data phase before still expire and refund then.
    private const double QuietSettleSeconds = 10;

    private readonly List<string> _violations = [];
    private readonly StringBuilder _report = new();

    private SoakAnalysis()
    {
    }

    public IReadOnlyList<string> Violations => _violations;

    public string Report => _report.ToString();

    public static SoakAnalysis Analyse(SoakSettings settings, IReadOnlyList<SoakSample> samples, SoakHeap heap, IReadOnlyDictionary<string, long> outcomes)
    {
        var a = new SoakAnalysis();
        a.Run(settings, samples, heap, outcomes);
        return a;
    }

    // The weights of the data in the managed heap (their budgets; only their ratios matter, the total is measured).
    private static double DataUnits(in SoakSample s) =>
        (512.0 * s.Accounts) + (208.0 * s.Transfers) + (32.0 * s.BurntIds) + (2048.0 * s.Channels) + (2048.0 * s.Keys) +
        (32.0 * (s.HoldExpiryEntries + s.ChannelDeadlineEntries));

    private void Run(SoakSettings settings, IReadOnlyList<SoakSample> samples, SoakHeap heap, IReadOnlyDictionary<string, long> outcomes)
    {
        SoakSample[] all = [.. samples];
        SoakSample[] steady = [.. all.Where(s => s.Seconds >= settings.WarmUp.TotalSeconds)];
        if (steady.Length < 5)
        {
            _violations.Add($"only {steady.Length} samples after the warm-up; run longer");
            return;
        }

        SoakSample first = steady[0];
        SoakSample last = steady[^1];
        double hours = (last.Seconds - first.Seconds) / 3600;
        Line($"Soak: {all[^1].Seconds:F0} s, warm-up {settings.WarmUp.TotalSeconds:F0} s, {steady.Length} samples after it, every {settings.SampleInterval.TotalSeconds:F0} s; " +
             $"snapshot and compaction every {settings.SnapshotInterval.TotalSeconds:F0} s; planted leak: {(settings.PlantLeak ? "yes" : "no")}");
        Line($"Load: {last.Rounds:N0} rounds ({(last.Rounds - first.Rounds) / (last.Seconds - first.Seconds):F1}/s, target {settings.RoundsPerSecond}), " +
             $"{last.Events:N0} events ({(last.Events - first.Events) / (last.Seconds - first.Seconds):F0}/s after warm-up)");
        Line($"Data at the end: {last.Accounts:N0} accounts, {last.Transfers:N0} transfers, {last.BurntIds:N0} burnt ids, {last.Channels:N0} channels, {last.Keys:N0} keys");
        Line("Per hour after warm-up (least-squares slope):");
        Line($"  accounts {PerHour(steady, s => s.Accounts):N0}, transfers {PerHour(steady, s => s.Transfers):N0}, burnt ids {PerHour(steady, s => s.BurntIds):N0}, " +
             $"channels {PerHour(steady, s => s.Channels):N0}, keys {PerHour(steady, s => s.Keys):N0}, events {PerHour(steady, s => s.Events):N0}");

        // Managed heap: the data's share measured by a fresh open of the same directory, less an empty engine's.
        double data = heap.Data;
        double unitsEnd = DataUnits(all[^1]);
        double Explained(SoakSample s) => unitsEnd > 0 ? data * DataUnits(s) / unitsEnd : 0;
        double heapGrowth = PerHour(steady, s => s.ManagedHeap);
        double heapExplained = PerHour(steady, Explained);
        double heapUnexplained = PerHour(steady, s => s.ManagedHeap - Explained(s));
        double heapLimit = Math.Max(64 * MiB, 0.25 * heapExplained);
        Line($"  managed heap: {Mb(heapGrowth)}/h, explained by data {Mb(heapExplained)}/h, unexplained {Mb(heapUnexplained)}/h (limit {Mb(heapLimit)}/h); " +
             $"{first.ManagedHeap / MiB:F1} -> {last.ManagedHeap / MiB:F1} MiB");
        Line($"    the data's heap: {data / MiB:F1} MiB ({data / Math.Max(1, all[^1].Transfers):F0} B per transfer, all data included), from a fresh open of the same directory " +
             $"({(heap.Reopened - heap.Disposed) / MiB:F1} MiB) less an empty engine's ({heap.EngineFixed / MiB:F1} MiB); the heap without an engine " +
             $"{heap.Before / MiB:F1} MiB before the run and {heap.Disposed / MiB:F1} MiB after it; at the end of the run {all[^1].ManagedHeap / MiB:F1} MiB, " +
             $"{(all[^1].ManagedHeap - heap.Reopened) / MiB:F1} MiB above the fresh open's");
        Check(heapUnexplained <= heapLimit, $"managed heap grows {Mb(heapUnexplained)}/h beyond its data (limit {Mb(heapLimit)}/h)");

        // Managed heap in the quiet phases: the same submissions, nothing stored, so no growth but the data's leftovers
        // (holds and channels of the phase before expiring in its first seconds, skipped).
        double quietSeconds = 0, quietGrowth = 0, quietExplained = 0, quietTransfers = 0;
        foreach (IGrouping<double, SoakSample> phase in steady
                     .Where(s => settings.IsQuiet(TimeSpan.FromSeconds(s.Seconds)))
                     .Where(s => s.Seconds >= settings.PhaseStart(TimeSpan.FromSeconds(s.Seconds)).TotalSeconds + QuietSettleSeconds)
                     .GroupBy(s => settings.PhaseStart(TimeSpan.FromSeconds(s.Seconds)).TotalSeconds))
        {
            SoakSample start = phase.First();
            SoakSample end = phase.Last();
            quietSeconds += end.Seconds - start.Seconds;
            quietGrowth += end.ManagedHeap - start.ManagedHeap;
            quietExplained += Explained(end) - Explained(start);
            quietTransfers += end.Transfers - start.Transfers;
        }

        if (quietSeconds < 2 * settings.SampleInterval.TotalSeconds)
        {
            _violations.Add($"only {quietSeconds:F0} s of quiet phases measured; run longer");
        }
        else
        {
            double quietPerHour = (quietGrowth - quietExplained) / quietSeconds * 3600;
            Line($"  managed heap in quiet phases ({quietSeconds:F0} s measured, {quietTransfers:N0} transfers added by expiries and refunds): " +
                 $"{Mb(quietGrowth / quietSeconds * 3600)}/h, explained by data {Mb(quietExplained / quietSeconds * 3600)}/h, unexplained {Mb(quietPerHour)}/h (limit 32 MiB/h)");
            Check(quietPerHour <= 32 * MiB, $"managed heap grows {Mb(quietPerHour)}/h in quiet phases, where nothing is stored (limit 32 MiB/h)");
        }

        // Working set: the heap's growth explains it; the rest is native.
        double rssGrowth = PerHour(steady, s => s.WorkingSet);
        double rssUnexplained = PerHour(steady, s => s.WorkingSet - s.ManagedHeap);
        Line($"  working set: {Mb(rssGrowth)}/h, explained by the managed heap {Mb(heapGrowth)}/h, unexplained (native) {Mb(rssUnexplained)}/h (limit 128 MiB/h); " +
             $"{first.WorkingSet / MiB:F1} -> {last.WorkingSet / MiB:F1} MiB");
        Check(rssUnexplained <= 128 * MiB, $"working set grows {Mb(rssUnexplained)}/h beyond the managed heap (limit 128 MiB/h)");

        // Open files.
        double fdGrowth = PerHour(steady, s => s.OpenFiles);
        int fdRise = steady.Max(s => s.OpenFiles) - first.OpenFiles;
        Line($"  open files: {fdGrowth:F1}/h (limit 60/h), {first.OpenFiles} -> {last.OpenFiles} (max {steady.Max(s => s.OpenFiles)}, rise limit 16); explained by data: 0");
        Check(fdGrowth <= 60 && fdRise <= 16, $"open files grow {fdGrowth:F1}/h, rising by {fdRise} after warm-up");

        // Journal: bounded by compaction, constant bytes per event.
        double window = (2 * settings.SnapshotInterval.TotalSeconds) + settings.SampleInterval.TotalSeconds;
        long worstJournal = 0;
        foreach (SoakSample s in steady)
        {
            SoakSample earlier = all.LastOrDefault(e => e.Seconds <= s.Seconds - window);
            long bound = s.JournalWritten - earlier.JournalWritten + (2 * settings.SegmentSizeBytes);
            worstJournal = Math.Max(worstJournal, s.JournalOnDisk - bound);
            Check(s.JournalOnDisk <= bound, $"journal on disk {s.JournalOnDisk / MiB:F1} MiB at {s.Seconds:F0} s, above what compaction leaves ({bound / MiB:F1} MiB)");
        }

        SoakSample middle = steady[steady.Length / 2];
        double perEventFirst = (double)(middle.JournalWritten - first.JournalWritten) / Math.Max(1, middle.Events - first.Events);
        double perEventSecond = (double)(last.JournalWritten - middle.JournalWritten) / Math.Max(1, last.Events - middle.Events);
        Line($"  journal on disk: {Mb(PerHour(steady, s => s.JournalOnDisk))}/h, {first.JournalOnDisk / MiB:F1} -> {last.JournalOnDisk / MiB:F1} MiB " +
             $"(max {steady.Max(s => s.JournalOnDisk) / MiB:F1} MiB, {steady.Max(s => s.SegmentFiles)} segments; closest to the compaction bound: {worstJournal / MiB:F1} MiB); " +
             $"journaled {Mb(PerHour(steady, s => s.JournalWritten))}/h, explained by events at {perEventFirst:F0} then {perEventSecond:F0} B per event");
        Check(perEventSecond <= 1.25 * perEventFirst && perEventSecond >= 0.8 * perEventFirst,
            $"journal bytes per event changed from {perEventFirst:F0} to {perEventSecond:F0}");

        // Snapshots.
        double snapshotGrowth = PerHour(steady, s => s.LatestSnapshot);
        double snapshotExplained = PerHour(steady, s => (256.0 * (s.Transfers + s.BurntIds)) + (1024.0 * (s.Accounts + s.Channels + s.Keys)));
        Line($"  snapshots: latest {Mb(snapshotGrowth)}/h, explained by data up to {Mb(snapshotExplained)}/h (limit that + 8 MiB/h); " +
             $"{first.LatestSnapshot / MiB:F1} -> {last.LatestSnapshot / MiB:F1} MiB; files at most {steady.Max(s => s.SnapshotFiles)} (limit 3), " +
             $"{steady.Max(s => s.SnapshotsOnDisk) / MiB:F1} MiB on disk at most");
        Check(snapshotGrowth <= snapshotExplained + (8 * MiB), $"the latest snapshot grows {Mb(snapshotGrowth)}/h, more than its data's {Mb(snapshotExplained)}/h");
        Check(steady.All(s => s.SnapshotFiles <= 3), $"up to {steady.Max(s => s.SnapshotFiles)} snapshot files kept");

        // Audit log.
        double auditGrowth = PerHour(steady, s => s.AuditOnDisk);
        double auditExplained = 64 * PerHour(steady, s => s.Events);
        Line($"  audit log: {Mb(auditGrowth)}/h, {auditGrowth / Math.Max(1, PerHour(steady, s => s.Events)):F1} B per event (limit 64 B per event + 8 MiB/h); " +
             $"{first.AuditOnDisk / MiB:F1} -> {last.AuditOnDisk / MiB:F1} MiB");
        Check(auditGrowth <= auditExplained + (8 * MiB), $"the audit log grows {Mb(auditGrowth)}/h, more than 64 B per event");

        // Disk in total.
        double diskGrowth = PerHour(steady, s => s.TotalDisk);
        double other = PerHour(steady, s => s.OtherLedgerFiles);
        Line($"  disk in total: {Mb(diskGrowth)}/h = journal {Mb(PerHour(steady, s => s.JournalOnDisk))}/h + snapshots {Mb(PerHour(steady, s => s.SnapshotsOnDisk))}/h + " +
             $"audit {Mb(auditGrowth)}/h + other files {Mb(other)}/h (unexplained; limit 1 MiB/h)");
        Check(other <= MiB, $"other files in the ledger directory grow {Mb(other)}/h");

        // Expiry queues.
        foreach (SoakSample s in steady)
        {
            Check(s.HoldExpiryEntries <= s.RecentTimedHolds + 1024,
                $"hold expiry queue {s.HoldExpiryEntries:N0} entries at {s.Seconds:F0} s, above the {s.RecentTimedHolds:N0} timed holds of the last {SoakWorkload.LongestHoldTimeout + 15} s");
            Check(s.ChannelDeadlineEntries <= (2 * s.RecentChannels) + 64,
                $"channel deadline queue {s.ChannelDeadlineEntries:N0} entries at {s.Seconds:F0} s, above two per channel of the last hour ({s.RecentChannels:N0})");
        }

        Line($"  hold expiry queue: {PerHour(steady, s => s.HoldExpiryEntries):N0} entries/h, {first.HoldExpiryEntries:N0} -> {last.HoldExpiryEntries:N0} " +
             $"(max {steady.Max(s => s.HoldExpiryEntries):N0}; timed holds of the last {SoakWorkload.LongestHoldTimeout + 15} s at the end: {last.RecentTimedHolds:N0})");
        Line($"  channel deadline queue: {PerHour(steady, s => s.ChannelDeadlineEntries):N0} entries/h, {first.ChannelDeadlineEntries:N0} -> {last.ChannelDeadlineEntries:N0} " +
             $"(channels opened in the last hour at the end: {last.RecentChannels:N0})");

        Line("Outcomes: " + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value:N0}")));
        Line(_violations.Count == 0 ? "No unexplained growth beyond the limits." : "FAILED:\n  " + string.Join("\n  ", _violations.Distinct().Take(20)));
    }

    /// <summary>The least-squares slope of <paramref name="value"/> against time, per hour.</summary>
    private static double PerHour(SoakSample[] samples, Func<SoakSample, double> value)
    {
        double n = samples.Length;
        double meanT = samples.Average(s => s.Seconds);
        double meanY = samples.Average(value);
        double covariance = samples.Sum(s => (s.Seconds - meanT) * (value(s) - meanY));
        double variance = samples.Sum(s => (s.Seconds - meanT) * (s.Seconds - meanT));
        return variance == 0 || n < 2 ? 0 : covariance / variance * 3600;
    }

    private static string Mb(double bytes) => (bytes / MiB).ToString("F1", CultureInfo.InvariantCulture) + " MiB";

    private void Check(bool ok, string violation)
    {
        if (!ok)
        {
            _violations.Add(violation);
        }
    }

    private void Line(string line) => _report.AppendLine(line);
}
