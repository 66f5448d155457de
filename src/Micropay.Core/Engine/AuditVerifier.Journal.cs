using System.Buffers;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// The journal: the first pass checks every segment's records in file order (framing, checksum, batch header, order) and
// notes where each sound batch lies; the second reads them in batch order, checks the hash chain and replays them.
public static partial class AuditVerifier
{
    private sealed partial class Verification
    {
        private const string TornTailNote =
            ". It is the journal's very end: a crash's torn write (never acknowledged; the store cuts it when it next opens) looks exactly like this, as does damage to the last batch";

        private readonly List<string> _segments = [];
        private readonly List<StoredBatch> _stored = [];
        private readonly List<(ulong From, ulong To)> _damaged = [];
        private ulong _journalStart;
        private ulong _lastBatch;

        // Second pass: the segment being read, and the buffer a batch is read into.
        private FileReader? _reader;
        private int _readerSegment = -1;
        private byte[] _payload = [];

        /// <summary>First pass: every segment in file order, reading only.</summary>
        private void ScanJournal()
        {
            List<(ulong First, string Path)> files;
            try
            {
                files = FileLedgerStore.ListSegmentFiles(_fs, journal);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Report(AuditFindingKind.RecordDamaged, 0, journal, 0, $"The journal directory cannot be listed: {e.Message}");
                return;
            }

            foreach ((_, string path) in files)
            {
                try
                {
                    _bytesTotal += 2 * new FileInfo(path).Length;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Reported when the segment is opened below.
                }
            }

            _journalStart = files.Count > 0 ? files[0].First : 0;
            ulong highest = 0;
            bool any = false;
            ulong? damageFrom = null;
            for (int i = 0; i < files.Count; i++)
            {
                (ulong nameFirst, string path) = files[i];
                _segments.Add(path);
                ulong expected = any ? highest + 1 : nameFirst;
                StoreFile file;
                try
                {
                    file = _fs.OpenFile(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Report(AuditFindingKind.RecordDamaged, expected, path, 0, $"The segment cannot be opened ({e.Message}), so none of its batches can be checked.");
                    damageFrom ??= expected;
                    continue;
                }

                using (file)
                {
                    long length = file.Length;
                    string? problem = FileLedgerStore.ReadSegmentHeader(file, out ulong salt, out ulong first, out long badOffset);
                    if (problem is not null)
                    {
                        Report(AuditFindingKind.RecordDamaged, expected, path, badOffset, $"The segment's header is damaged ({problem}), so none of its {length} bytes can be checked.");
                        damageFrom ??= expected;
                        Advance(length, batchDone: false);
                        continue;
                    }

                    Advance(FileLedgerStore.FileHeaderSize, batchDone: false);
                    if (first != nameFirst)
                    {
                        Report(AuditFindingKind.RecordDamaged, nameFirst, path, 16, $"The segment's header says its first batch is {first}, its file name says {nameFirst}.");
                    }

                    try
                    {
                        foreach (ScannedRecord record in FileLedgerStore.ScanSegment(file, salt))
                        {
                            Advance(record.Length, batchDone: false);
                            if (record.Problem is not null)
                            {
                                ulong at = any ? highest + 1 : first;
                                string named = record.BatchNumberKnown && record.BatchNumber != at ? $" (its frame names batch {record.BatchNumber})" : "";
                                string tail = i == files.Count - 1 && record.Offset + record.Length == length ? TornTailNote : "";
                                Report(
                                    AuditFindingKind.RecordDamaged,
                                    at,
                                    path,
                                    record.Offset,
                                    $"Batch {at} is damaged{named}: {record.Problem}; the {record.Length} bytes from here hold no sound record{tail}.");
                                damageFrom ??= at;
                                continue;
                            }

                            ulong number = record.BatchNumber;
                            if (damageFrom is { } from)
                            {
                                // The damaged bytes held the batches from there up to this one.
                                _damaged.Add((from, Math.Max(from, number - 1)));
                                damageFrom = null;
                            }

                            if (any && number <= highest)
                            {
                                Report(
                                    AuditFindingKind.BatchOutOfOrder,
                                    number,
                                    path,
                                    record.Offset,
                                    $"Batch {number} is stored after batch {highest}: the journal's batches were reordered or copied.");
                            }
                            else
                            {
                                highest = number;
                            }

                            any = true;
                            _stored.Add(new StoredBatch(number, i, record.Offset, checked((int)(record.Length - FileLedgerStore.FrameSize))));
                        }
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        Report(AuditFindingKind.RecordDamaged, any ? highest + 1 : first, path, 0, $"The segment cannot be read ({e.Message}).");
                        damageFrom ??= any ? highest + 1 : first;
                    }
                }
            }

            if (damageFrom is { } last)
            {
                _damaged.Add((last, last));
            }

            _lastBatch = any ? highest : 0;
        }

        /// <summary>Second pass: every batch in batch order: the hash chain, and the replay once it can start.</summary>
        private void ReplayJournal()
        {
            StoredBatch[] order = [.. _stored];
            bool sorted = true;
            for (int i = 1; i < order.Length && sorted; i++)
            {
                sorted = order[i - 1].Batch < order[i].Batch;
            }

            if (!sorted)
            {
                // In batch order, a copy after its original (the first one found is the one replayed).
                order = [.. _stored.Select((s, i) => (s, i)).OrderBy(x => x.s.Batch).ThenBy(x => x.i).Select(x => x.s)];
            }

            if (_journalStart == 0 && order.Length == 0)
            {
                // No journal at all: an empty tree, which the audit files and checkpoints must agree with.
                _ledger = null;
                return;
            }

            ulong first = Math.Min(_journalStart, order.Length > 0 ? order[0].Batch : _journalStart);
            BatchHash? snapshotHash = null;
            ulong snapshotBatch = 0;
            if (first <= 1)
            {
                first = 1;
                _ledger = new LedgerStateMachine();
            }
            else
            {
                StartFromSnapshot(first, out snapshotBatch, out snapshotHash);
            }

            _firstReplayed = _ledger is null ? 0 : snapshotBatch + 1;
            if (_ledger is null)
            {
                Stop(first, "no state to replay the journal onto");
            }

            BatchHash? previous = first == 1 ? BatchHash.Zero : null;
            int k = 0;
            for (ulong b = first; b <= _lastBatch;)
            {
                while (k < order.Length && order[k].Batch < b)
                {
                    k++;
                }

                if (k == order.Length || order[k].Batch != b)
                {
                    ulong next = k < order.Length ? order[k].Batch : _lastBatch + 1;
                    ReportMissing(b, next - 1, k < order.Length ? order[k] : null);
                    Stop(b, $"batch {b} is not in the journal whole");
                    previous = null;
                    b = next;
                    continue;
                }

                StoredBatch stored = order[k];
                string path = _segments[stored.Segment];
                if (!TryRead(stored, out CommitBatch batch))
                {
                    Stop(b, $"batch {b} could not be read again");
                    previous = null;
                    b++;
                    continue;
                }

                BatchHash hash = BatchHash.Compute(_payload.AsSpan(0, stored.PayloadLength));
                BatchHash previousHash = batch.Header.PreviousBatchHash;
                long linkOffset = stored.Offset + FileLedgerStore.FrameSize + 32;
                if (previous is { } p && previousHash != p)
                {
                    Report(
                        AuditFindingKind.ChainBroken,
                        b,
                        path,
                        linkOffset,
                        b == 1 ? "Batch 1's previous batch hash is not zero." : $"Batch {b}'s previous batch hash is not the SHA-256 of batch {b - 1}: a batch was changed and the chain not repaired.");
                }

                if (b == snapshotBatch && snapshotHash is { } recorded && hash != recorded)
                {
                    Report(
                        AuditFindingKind.ChainBroken,
                        b,
                        path,
                        stored.Offset,
                        $"The snapshot of batch {b} records a batch hash that batch {b} in the journal does not have: the snapshot belongs to another history.");
                }
                else if (b == snapshotBatch + 1 && previous is null && snapshotHash is { } before && previousHash != before)
                {
                    Report(
                        AuditFindingKind.ChainBroken,
                        b,
                        path,
                        linkOffset,
                        $"Batch {b}'s previous batch hash is not the hash the snapshot of batch {snapshotBatch} recorded: the snapshot belongs to another history.");
                }

                previous = hash;
                if (b > snapshotBatch && _stoppedAt is null)
                {
                    ReplayBatch(batch, stored, path);
                }

                Advance(FileLedgerStore.FrameSize + stored.PayloadLength, batchDone: true);
                b++;
            }

            _reader?.Dispose();
            _reader = null;
        }

        /// <summary>Reports batches <paramref name="from"/> to <paramref name="to"/> as missing, except those inside damage already reported.</summary>
        private void ReportMissing(ulong from, ulong to, StoredBatch? next)
        {
            string path = next is { } n ? _segments[n.Segment] : _segments.Count > 0 ? _segments[^1] : journal;
            long offset = next?.Offset ?? 0;
            if (next is null && _segments.Count > 0)
            {
                try
                {
                    offset = new FileInfo(path).Length;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    offset = 0;
                }
            }

            ulong b = from;
            while (b <= to)
            {
                // FindIndex, not Find: Find returns a default (0, 0) for no match, which would read as damage.
                int damage = _damaged.FindIndex(d => d.From <= b && b <= d.To);
                if (damage >= 0)
                {
                    b = _damaged[damage].To + 1;
                    continue;
                }

                ulong end = to;
                foreach ((ulong f, _) in _damaged)
                {
                    if (f > b && f <= end)
                    {
                        end = f - 1;
                    }
                }

                string what = b == end ? $"Batch {b} is" : $"Batches {b} to {end} are";
                Report(AuditFindingKind.BatchMissing, b, path, offset, $"{what} not in the journal: removed (the batches around them no longer follow each other here).");
                b = end + 1;
            }
        }

        /// <summary>Reads a sound batch again (its bytes into <see cref="_payload"/>).</summary>
        private bool TryRead(StoredBatch stored, out CommitBatch batch)
        {
            batch = default;
            string path = _segments[stored.Segment];
            try
            {
                if (_readerSegment != stored.Segment)
                {
                    _reader?.Dispose();
                    _reader = null;
                    _readerSegment = stored.Segment;
                    _reader = FileReader.Open(_fs, path);
                    Advance(FileLedgerStore.FileHeaderSize, batchDone: false);
                }

                if (_payload.Length < stored.PayloadLength)
                {
                    _payload = new byte[Math.Max(stored.PayloadLength, Math.Min(2L * _payload.Length, Array.MaxLength))];
                }

                if (_reader!.Exists && _reader.TryRead(stored.Offset + FileLedgerStore.FrameSize, _payload.AsSpan(0, stored.PayloadLength)) &&
                    CommitBatch.TryParse(_payload.AsMemory(0, stored.PayloadLength), out batch) == CommitBatchParseResult.Ok && batch.BatchNumber == stored.Batch)
                {
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Report(AuditFindingKind.RecordDamaged, stored.Batch, path, stored.Offset, $"Batch {stored.Batch} cannot be read again ({e.Message}).");
                return false;
            }

            Report(AuditFindingKind.RecordDamaged, stored.Batch, path, stored.Offset, $"Batch {stored.Batch} changed between the verifier's two reads of the journal.");
            return false;
        }

        /// <summary>
        /// For a journal that starts after batch 1: the oldest intact snapshot that covers its start (so the most batches
        /// are replayed), read without the store; restores the ledger and the states beside it, and checks the audit
        /// files' leaves before it against the snapshot's tree.
        /// </summary>
        private void StartFromSnapshot(ulong journalStart, out ulong snapshotBatch, out BatchHash? snapshotHash)
        {
            snapshotBatch = 0;
            snapshotHash = null;
            _ledger = null;
            var rejected = new List<string>();
            List<(ulong Batch, string Path)> snapshots;
            try
            {
                snapshots = FileLedgerStore.ListSnapshotFiles(_fs, journal);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                snapshots = [];
                rejected.Add($"the directory cannot be listed ({e.Message})");
            }

            foreach ((ulong batch, string path) in snapshots)
            {
                if (batch < journalStart - 1 || batch > _lastBatch)
                {
                    continue;
                }

                string? problem = FileLedgerStore.TryReadSnapshotFile(_fs, path, batch, out LedgerSnapshot? snapshot);
                if (problem is not null)
                {
                    rejected.Add($"'{path}': {problem}");
                    continue;
                }

                LedgerStateMachine ledger;
                AuditSnapshotSection.Parsed? section;
                using (snapshot)
                {
                    try
                    {
                        Dictionary<string, ReadOnlySequence<byte>> sections = LedgerEngine.ReadSnapshotSections(snapshot!.State, out ReadOnlySequence<byte> ledgerSection);
                        ledger = LedgerStateMachine.ReadSnapshot(ledgerSection);
                        section = LedgerEngine.RestoreSnapshotSections(ledger, sections, batch);
                    }
                    catch (LedgerSnapshotException e)
                    {
                        rejected.Add($"'{path}': {e.Message}");
                        continue;
                    }
                }

                if (section is not { HasTree: true } withTree || withTree.Tree.BatchCount != batch)
                {
                    rejected.Add($"'{path}': it was taken without the audit log (or its audit section is inconsistent), so no audit tree continues from it");
                    continue;
                }

                _ledger = ledger;
                snapshotBatch = batch;
                snapshotHash = withTree.BatchHash.IsZero ? null : withTree.BatchHash;
                CheckLeavesBeforeSnapshot(batch, withTree, path);
                return;
            }

            string why = rejected.Count == 0 ? "there is none" : "rejected: " + string.Join("; ", rejected);
            Report(
                AuditFindingKind.BatchMissing,
                1,
                _segments.Count > 0 ? _segments[0] : journal,
                0,
                $"The journal starts at batch {journalStart} (compacted), and no intact snapshot of batch {journalStart - 1} or later covers batches 1 to {journalStart - 1} ({why}): nothing can be replayed.");
        }

        /// <summary>Stops the replay at <paramref name="batch"/> (the first stop wins): nothing from there on can be replayed.</summary>
        private void Stop(ulong batch, string reason)
        {
            if (_stoppedAt is null)
            {
                _stoppedAt = batch;
                _stopReason = reason;
            }
        }
    }

    /// <summary>Where a sound batch lies: its segment (an index into the list of segment files), its record's offset, and its payload's length.</summary>
    private readonly record struct StoredBatch(ulong Batch, int Segment, long Offset, int PayloadLength);
}
