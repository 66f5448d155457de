using System.Globalization;
using System.Text;

namespace Micropay.Core.Storage;

// What a failed write leaves behind, and why a reopen in the same boot must not trust the page cache.
//
// After a failed write or fsync the store refuses appends (it is "broken"), and only a new open decides what is durable.
// That open reads the journal through the page cache. After a failed fsync, Linux may keep the pages that never reached
// the disk, marked clean (the error is reported once; the next fsync succeeds without writing them): the reopened store
// would read a whole, verifying record that a power cut then erases ("fsyncgate", PostgreSQL 2018). So before breaking,
// the store cuts the active segment back to the end of its last durable record and fsyncs that: what the page cache
// still holds past it is gone with the truncation. If that fails too, it leaves a marker file recording the boot it
// happened in; an open in the same boot refuses (the page cache may still hold the record), an open after a reboot
// (whose page cache held nothing over) proceeds and removes the marker. Where the platform has no boot identifier the
// operator removes the marker after restarting the machine, as the refusal says.
//
// Residual risk, stated: if the disk refuses the truncation, its fsync and the marker's creation, a reopen in the same
// boot can still read a record that never reached the disk. The failing call is reported in every case.
//
// Marker file "ledger.write-failed" (written as "ledger.write-failed.tmp", fsync'd and renamed), UTF-8 text, one "key: value" per line: boot (the boot id, or "unknown"), time (UTC,
// ISO 8601), segment (the file), durable-end (the offset cut back to), error (the exception's message). Only "boot" is
// parsed; the rest is for the operator.
public sealed partial class FileLedgerStore
{
    internal const string WriteFailedMarkerName = "ledger.write-failed";

    /// <summary>
    /// Marks the store broken after a failed write of the record at <paramref name="durableEnd"/> of <paramref name="segment"/>:
    /// truncates the segment back to <paramref name="durableEnd"/> and fsyncs it, or, when that fails, leaves the marker.
    /// Returns what happened, for the exception message. Under the write lock.
    /// </summary>
    private string BreakAfterFailedWrite(Segment segment, long durableEnd)
    {
        _broken = true;
        try
        {
            _activeFile!.SetLength(durableEnd);
            _activeFile.Flush();
            return $"the segment was cut back to its last durable record (offset {durableEnd}), so opening the store again reports exactly what is durable.";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return LeaveWriteFailedMarker(segment, durableEnd, e);
        }
    }

    private string LeaveWriteFailedMarker(Segment segment, long durableEnd, Exception error)
    {
        string path = LocationOf(WriteFailedMarkerName);
        var text = new StringBuilder()
            .Append("boot: ").Append(_fs.BootId ?? "unknown").Append('\n')
            .Append("time: ").Append(DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture)).Append('\n')
            .Append("segment: ").Append(segment.Path).Append('\n')
            .Append("durable-end: ").Append(durableEnd.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append("error: ").Append(error.Message.ReplaceLineEndings(" ")).Append('\n')
            .ToString();
        string temporary = path + ".tmp";
        try
        {
            // Whole or absent, like every file the store creates: a torn marker would be unreadable.
            using (StoreFile marker = _fs.OpenFile(temporary, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
            {
                marker.Write(Encoding.UTF8.GetBytes(text), 0);
                marker.Flush();
            }

            _fs.Move(temporary, path, overwrite: true);
            _fs.SyncDirectory(_directory);
            return $"the segment could not be cut back to its last durable record ({error.Message}), so '{path}' now makes an open in this boot refuse.";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"the segment could not be cut back to its last durable record ({error.Message}) and the marker '{path}' could not be " +
                $"written ({e.Message}): until the machine restarts, an open may read a record that never reached the disk.";
        }
    }

    /// <summary>
    /// At open: refuses when a write failed in this boot and its unsynced bytes could not be cut back (the marker); returns
    /// whether a marker from an earlier boot must be removed once recovery made everything it trusts durable.
    /// </summary>
    private bool CheckWriteFailedMarker()
    {
        string path = LocationOf(WriteFailedMarkerName);
        if (!_fs.FileExists(path))
        {
            return false;
        }

        string text;
        try
        {
            using StoreFile marker = _fs.OpenFile(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            byte[] bytes = new byte[Math.Min(marker.Length, 64 * 1024)];
            int total = 0;
            while (total < bytes.Length && marker.Read(bytes.AsSpan(total), total) is int read and > 0)
            {
                total += read;
            }

            text = Encoding.UTF8.GetString(bytes, 0, total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LedgerStoreException($"The ledger store's marker of a failed write, '{path}', exists but cannot be read.", e);
        }

        string? markedBoot = null;
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("boot: ", StringComparison.Ordinal))
            {
                markedBoot = line["boot: ".Length..].Trim();
            }
        }

        string? boot = _fs.BootId;
        if (boot is not null && markedBoot is not null && markedBoot != "unknown" && markedBoot != boot)
        {
            // Written in an earlier boot: the page cache that might have held unsynced records is gone, so the disk's
            // contents are what recovery reads. Removed once recovery has made what it trusts durable.
            return true;
        }

        throw new LedgerStoreException(
            $"A write to the ledger store '{_directory}' failed earlier in this boot and its unsynced bytes could not be cut back " +
            $"(details in '{path}'): the operating system may still hold data that never reached the disk, and opening now could " +
            "report a batch that a power cut would erase. Check the disk (kernel log, device health), restart the machine, and open " +
            "the store again" + (boot is null ? $"; this platform has no boot identifier, so after the restart delete '{path}' first." : "."));
    }
}
