using System.Buffers.Binary;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Storage;

namespace Micropay.Core.Engine;

// The audit log: the replay's results and batch records against results.bin and batches.bin, its leaf hashes against hashes-0.bin, the tree rebuilt as a compact range (its
// complete subtrees against every level of tiles as they complete), and every stored checkpoint against the tree at its
// size. Independent of AuditLog's own tree code: the files are checked by other code than the code that wrote them.
public static partial class AuditVerifier
{
    private sealed partial class Verification : ITileSink
    {
        private const int BatchRecordSize = AuditLog.BatchRecordSize;

        private readonly TreeBuilder _tree = new();
        private readonly bool[] _levelBroken = new bool[AuditFiles.Levels];
        private readonly List<StoredCheckpoint> _checkpoints = [];
        private List<StoredCheckpoint> _checkpointsByBatch = [];
        private AuditFiles _files = null!;
        private bool _resultsBroken;
        private bool _batchesBroken;
        private byte[] _leaves = [];
        private byte[] _storedResults = [];
        private ulong _tileBatch;
        private int _nextBySize;
        private int _nextByBatch;
        private int _checkpointsVerified;
        private int _checkpointsPassedOver;
        private ulong _lastVerifiedCheckpointBatch;

        /// <summary>Reads checkpoints.bin: every record whose note verifies under the ledger's key, is a checkpoint, and has the key's name as its origin.</summary>
        private void LoadCheckpoints()
        {
            FileReader file = _files.Checkpoints;
            if (!file.Exists || file.Length > int.MaxValue)
            {
                Report(AuditFindingKind.CheckpointInvalid, 0, file.Path, 0, $"checkpoints.bin cannot be read ({file.Error ?? "over 2 GiB"}): no signed checkpoint can be checked.");
                return;
            }

            byte[] bytes = new byte[file.Length];
            if (!file.TryRead(0, bytes))
            {
                Report(AuditFindingKind.CheckpointInvalid, 0, file.Path, 0, $"checkpoints.bin cannot be read ({file.Error}): no signed checkpoint can be checked.");
                return;
            }

            List<(long Offset, ulong BatchNumber, string Note)> records = ReadCheckpointRecords(bytes, file.Path);
            foreach ((long offset, ulong batch, string note) in records)
            {
                NoteResult opened = SignedNote.TryOpen(Encoding.UTF8.GetBytes(note), [key], out string? text, out _);
                Checkpoint? body = null;
                string? problem = opened != NoteResult.Ok ? $"does not verify under the ledger's key {key.Name} ({opened})"
                    : !Checkpoint.TryParse(text, out body, out string? error) ? $"is not a checkpoint ({error})"
                    : !string.Equals(body.Origin, key.Name, StringComparison.Ordinal) ? $"is of origin \"{body.Origin}\", not the ledger key's \"{key.Name}\""
                    : null;
                if (problem is not null || body is null)
                {
                    Report(AuditFindingKind.CheckpointInvalid, batch, file.Path, offset, $"The checkpoint recorded for batch {batch} {problem}.");
                    continue;
                }

                _checkpoints.Add(new StoredCheckpoint(offset, batch, body.Size, body.RootHash.ToArray()));
            }

            _checkpointsByBatch = [.. _checkpoints.OrderBy(c => c.Batch)];
            List<StoredCheckpoint> bySize = [.. _checkpoints.OrderBy(c => c.Size)];
            _checkpoints.Clear();
            _checkpoints.AddRange(bySize);
            CheckCheckpointsAt(0);
        }

        /// <summary>
        /// The records of checkpoints.bin, read as an auditor must: unlike the engine's recovery (which cuts the file at the
        /// first torn record), a record whose framing holds (its two lengths agree) but whose CRC does not is reported and
        /// passed over, so one changed byte does not hide every later checkpoint. Where the framing breaks the rest is
        /// reported as one damaged tail.
        /// </summary>
        private List<(long Offset, ulong BatchNumber, string Note)> ReadCheckpointRecords(ReadOnlySpan<byte> bytes, string path)
        {
            var records = new List<(long Offset, ulong BatchNumber, string Note)>();
            int at = 0;
            while (at < bytes.Length)
            {
                List<(long Offset, ulong BatchNumber, string Note)> sound = AuditLog.ReadCheckpointRecords(bytes[at..], out long end);
                foreach ((long offset, ulong batch, string note) in sound)
                {
                    records.Add((at + offset, batch, note));
                }

                at += (int)end;
                if (at == bytes.Length)
                {
                    break;
                }

                ReadOnlySpan<byte> rest = bytes[at..];
                int length = rest.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(rest) : -1;
                ulong named = rest.Length >= 12 ? BinaryPrimitives.ReadUInt64LittleEndian(rest[4..]) : 0;
                if (length > 0 && length <= rest.Length - AuditLog.CheckpointFraming &&
                    BinaryPrimitives.ReadInt32LittleEndian(rest[(16 + length)..]) == length)
                {
                    Report(
                        AuditFindingKind.CheckpointInvalid,
                        named,
                        path,
                        at,
                        $"The checkpoint record here (naming batch {named}) fails its CRC-32C: its bytes were changed after it was written.");
                    at += AuditLog.CheckpointFraming + length;
                    continue;
                }

                Report(
                    AuditFindingKind.CheckpointInvalid,
                    records.Count > 0 ? records[^1].BatchNumber : 0,
                    path,
                    at,
                    $"The {rest.Length} bytes from here hold no whole checkpoint record: a crash's torn write (the engine cuts it when it next opens) or damage.");
                break;
            }

            return records;
        }

        /// <summary>Appends a replayed batch's leaves: checks its batch record and results against the files, then adds the leaves to the tree (whose sink checks their hashes against the tiles).</summary>
        private void AppendLeaves(ulong b, BatchOperation operation, ulong firstTimestamp, ReadOnlySpan<byte> events, int eventSize, ReadOnlySpan<uint> results)
        {
            int count = results.Length;
            int entrySize = AuditLeaf.HeaderSize + eventSize;
            int total = checked(count * entrySize);
            if (_leaves.Length < total)
            {
                _leaves = new byte[total];
            }

            Span<byte> leaves = _leaves.AsSpan(0, total);
            for (int i = 0; i < count; i++)
            {
                Span<byte> leaf = leaves.Slice(i * entrySize, entrySize);
                AuditLeaf.WriteHeader(leaf, operation, results[i], firstTimestamp + (ulong)i, b, i, eventSize);
                events.Slice(i * eventSize, eventSize).CopyTo(leaf[AuditLeaf.HeaderSize..]);
            }

            CompareBatchRecord(b, firstTimestamp, count, eventSize, operation);
            CompareResults(b, results);
            AppendHashes(b, leaves, count, entrySize);
        }

        private void AppendHashes(ulong b, ReadOnlySpan<byte> leaves, int count, int entrySize)
        {
            _tileBatch = b;
            Span<byte> hash = stackalloc byte[MerkleHashes.Size];
            for (int i = 0; i < count; i++)
            {
                MerkleHashes.Leaf(leaves.Slice(i * entrySize, entrySize), hash);
                _tree.Append(hash, this);
                CheckCheckpointsAt(b);
            }
        }

        private void CompareBatchRecord(ulong b, ulong firstTimestamp, int count, int eventSize, BatchOperation operation)
        {
            if (_batchesBroken)
            {
                return;
            }

            FileReader file = _files.Batches;
            long at = checked((long)(b - 1) * BatchRecordSize);
            Span<byte> expected = stackalloc byte[BatchRecordSize];
            expected.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(expected, _tree.Size);
            BinaryPrimitives.WriteUInt64LittleEndian(expected[8..], firstTimestamp);
            BinaryPrimitives.WriteUInt64LittleEndian(expected[16..], b);
            BinaryPrimitives.WriteInt32LittleEndian(expected[24..], count);
            BinaryPrimitives.WriteInt32LittleEndian(expected[28..], eventSize);
            BinaryPrimitives.WriteUInt16LittleEndian(expected[32..], (ushort)operation);
            Span<byte> stored = stackalloc byte[BatchRecordSize];
            if (!file.TryRead(at, stored))
            {
                Report(AuditFindingKind.BatchIndexMismatch, b, file.Path, Math.Min(at, file.Length), $"batches.bin ends before the record of batch {b} ({file.Error ?? $"{file.Length} bytes"}).");
                _batchesBroken = true;
                return;
            }

            if (!stored.SequenceEqual(expected))
            {
                Report(
                    AuditFindingKind.BatchIndexMismatch,
                    b,
                    file.Path,
                    at,
                    $"The record of batch {b} in batches.bin is {DescribeBatchRecord(stored)}; replaying the journal gives {DescribeBatchRecord(expected)}.");
            }
        }

        /// <summary>The results the replay decided against results.bin, which is what receipts prove.</summary>
        private void CompareResults(ulong b, ReadOnlySpan<uint> results)
        {
            if (_resultsBroken || results.IsEmpty)
            {
                return;
            }

            FileReader file = _files.Results;
            int length = results.Length * sizeof(uint);
            if (_storedResults.Length < length)
            {
                _storedResults = new byte[length];
            }

            Span<byte> stored = _storedResults.AsSpan(0, length);
            long at = _tree.Size * sizeof(uint);
            if (!file.TryRead(at, stored))
            {
                Report(
                    AuditFindingKind.LeafMismatch,
                    b,
                    file.Path,
                    Math.Min(at, file.Length),
                    $"results.bin ends before the results of batch {b} ({file.Error ?? $"{file.Length} bytes; they start at {at}"}).");
                _resultsBroken = true;
                return;
            }

            for (int i = 0; i < results.Length; i++)
            {
                uint have = BinaryPrimitives.ReadUInt32LittleEndian(stored[(i * sizeof(uint))..]);
                if (have != results[i])
                {
                    Report(
                        AuditFindingKind.LeafMismatch,
                        b,
                        file.Path,
                        at + ((long)i * sizeof(uint)),
                        $"Leaf {_tree.Size + i} (batch {b}, event {i}) has result {have} in results.bin, but replaying the journal gives {results[i]}.");
                }
            }
        }

        /// <summary>A complete subtree whose height is a multiple of 8: the hash at its place in that level's file must be its hash.</summary>
        void ITileSink.Completed(int level, long index, ReadOnlySpan<byte> hash)
        {
            if (level >= AuditFiles.Levels || _levelBroken[level])
            {
                return;
            }

            FileReader file = _files.Hashes[level];
            Span<byte> stored = stackalloc byte[MerkleHashes.Size];
            long at = index * MerkleHashes.Size;
            if (!file.TryRead(at, stored))
            {
                Report(
                    AuditFindingKind.TileMismatch,
                    _tileBatch,
                    file.Path,
                    Math.Min(at, file.Length),
                    $"hashes-{level}.bin ends before hash {index} (tile {level}/{index >> AuditLog.TileHeight}), which the tree has ({file.Error ?? $"{file.Length} bytes"}).");
                _levelBroken[level] = true;
                return;
            }

            if (!stored.SequenceEqual(hash))
            {
                Report(
                    AuditFindingKind.TileMismatch,
                    _tileBatch,
                    file.Path,
                    at,
                    level == 0
                        ? $"Leaf {index}'s hash (tile 0/{index >> AuditLog.TileHeight}) is {Convert.ToHexStringLower(stored)}, but the leaf the journal gives hashes to {Convert.ToHexStringLower(hash)}."
                        : $"Hash {index} of level {level} (tile {level}/{index >> AuditLog.TileHeight}) is {Convert.ToHexStringLower(stored)}, but the leaves under it hash to {Convert.ToHexStringLower(hash)}.");
            }
        }

        /// <summary>Every checkpoint over the tree's current size: its root must be the tree's.</summary>
        private void CheckCheckpointsAt(ulong batch)
        {
            Span<byte> root = stackalloc byte[MerkleHashes.Size];
            bool rooted = false;
            while (_nextBySize < _checkpoints.Count && _checkpoints[_nextBySize].Size <= _tree.Size)
            {
                StoredCheckpoint checkpoint = _checkpoints[_nextBySize++];
                if (checkpoint.Size < _tree.Size)
                {
                    // The tree was set past it from a snapshot (the leaves before it could not be checked).
                    _checkpointsPassedOver++;
                    continue;
                }

                if (!rooted)
                {
                    _tree.GetRoot(root);
                    rooted = true;
                }

                if (root.SequenceEqual(checkpoint.Root))
                {
                    _checkpointsVerified++;
                    _lastVerifiedCheckpointBatch = Math.Max(_lastVerifiedCheckpointBatch, checkpoint.Batch);
                    continue;
                }

                string where = _lastVerifiedCheckpointBatch == 0
                    ? $"somewhere in batches 1 to {batch}"
                    : $"somewhere in batches {_lastVerifiedCheckpointBatch + 1} to {batch} (the checkpoint through batch {_lastVerifiedCheckpointBatch} still verifies)";
                Report(
                    AuditFindingKind.CheckpointContradicted,
                    checkpoint.Batch,
                    _files.Checkpoints.Path,
                    checkpoint.Offset,
                    $"The checkpoint the ledger's key signed over the tree of {checkpoint.Size} leaves (through batch {checkpoint.Batch}) has root {Convert.ToHexStringLower(checkpoint.Root)}, " +
                    $"but the journal's tree of {checkpoint.Size} leaves has root {Convert.ToHexStringLower(root)}: the history it covers was rewritten after it was signed, {where}.");
            }
        }

        /// <summary>Each checkpoint's record names the last batch it covers: the tree must end at its size there.</summary>
        private void CheckCheckpointBatch(ulong b)
        {
            while (_nextByBatch < _checkpointsByBatch.Count && _checkpointsByBatch[_nextByBatch].Batch <= b)
            {
                StoredCheckpoint checkpoint = _checkpointsByBatch[_nextByBatch++];
                if (checkpoint.Batch == b && checkpoint.Size != _tree.Size)
                {
                    Report(
                        AuditFindingKind.CheckpointInvalid,
                        b,
                        _files.Checkpoints.Path,
                        checkpoint.Offset,
                        $"checkpoints.bin says the checkpoint over {checkpoint.Size} leaves covers the batches through {b}, but the tree after batch {b} has {_tree.Size} leaves.");
                }
            }
        }

        /// <summary>
        /// For a replay that starts from the snapshot of batch <paramref name="snapshotBatch"/>: the journal before it is
        /// gone, so the leaves before it are checked from the audit files alone. Each batch record must follow the one
        /// before and name its batch; the leaf hashes (hashes-0.bin) are folded into the tree, whose higher tiles and
        /// checkpoints are checked as they complete, and the tree they make must be the snapshot's. Where that fails, the
        /// tree continues from the snapshot's frontier.
        /// </summary>
        private void CheckLeavesBeforeSnapshot(ulong snapshotBatch, AuditSnapshotSection.Parsed snapshot, string snapshotPath)
        {
            bool sound = true;
            Span<byte> record = stackalloc byte[BatchRecordSize];
            Span<byte> hash = stackalloc byte[MerkleHashes.Size];
            for (ulong b = 1; b <= snapshotBatch && sound; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long at = (long)(b - 1) * BatchRecordSize;
                if (!_files.Batches.TryRead(at, record))
                {
                    Report(
                        AuditFindingKind.BatchIndexMismatch,
                        b,
                        _files.Batches.Path,
                        Math.Min(at, _files.Batches.Length),
                        $"batches.bin ends before the record of batch {b}, which the snapshot of batch {snapshotBatch} covers ({_files.Batches.Error ?? $"{_files.Batches.Length} bytes"}).");
                    _batchesBroken = true;
                    sound = false;
                    break;
                }

                long firstLeaf = BinaryPrimitives.ReadInt64LittleEndian(record);
                ulong batchNumber = BinaryPrimitives.ReadUInt64LittleEndian(record[16..]);
                int count = BinaryPrimitives.ReadInt32LittleEndian(record[24..]);
                int eventSize = BinaryPrimitives.ReadInt32LittleEndian(record[28..]);
                var operation = (BatchOperation)BinaryPrimitives.ReadUInt16LittleEndian(record[32..]);
                if (firstLeaf != _tree.Size || batchNumber != b || count is < 0 or > CommitBatch.MaxEventCount || eventSize is < 8 or > CommitBatchHeader.MaxEventSize ||
                    eventSize % 8 != 0 || operation == BatchOperation.None)
                {
                    Report(
                        AuditFindingKind.BatchIndexMismatch,
                        b,
                        _files.Batches.Path,
                        at,
                        $"The record of batch {b} in batches.bin is {DescribeBatchRecord(record)}, which does not follow the batch before it (first leaf {_tree.Size}, batch {b}).");
                    sound = false;
                    break;
                }

                _tileBatch = b;
                for (int i = 0; i < count && sound; i++)
                {
                    long leaf = _tree.Size;
                    if (!_files.Hashes[0].TryRead(leaf * MerkleHashes.Size, hash))
                    {
                        Report(
                            AuditFindingKind.TileMismatch,
                            b,
                            _files.Hashes[0].Path,
                            Math.Min(leaf * MerkleHashes.Size, _files.Hashes[0].Length),
                            $"hashes-0.bin ends before leaf {leaf} (batch {b}), which the snapshot of batch {snapshotBatch} covers ({_files.Hashes[0].Error ?? $"{_files.Hashes[0].Length} bytes"}).");
                        _levelBroken[0] = true;
                        sound = false;
                        break;
                    }

                    _tree.Append(hash, this);
                    CheckCheckpointsAt(b);
                }

                CheckCheckpointBatch(b);
            }

            Span<byte> root = stackalloc byte[MerkleHashes.Size];
            _tree.GetRoot(root);
            if (sound && (_tree.Size != snapshot.Tree.TreeSize || !root.SequenceEqual(snapshot.Root.Span)))
            {
                Report(
                    AuditFindingKind.TileMismatch,
                    snapshotBatch,
                    snapshotPath,
                    0,
                    $"The audit files' leaf hashes of batches 1 to {snapshotBatch} make a tree of {_tree.Size} leaves with root {Convert.ToHexStringLower(root)}, " +
                    $"but the snapshot of batch {snapshotBatch} records {snapshot.Tree.TreeSize} leaves with root {Convert.ToHexStringLower(snapshot.Root.Span)}.");
                sound = false;
            }

            if (!sound)
            {
                // The journal after the snapshot continues the snapshot's tree (the engine checked the tiles against it).
                _tree.Seed(snapshot.Tree.TreeSize, snapshot.Tree.Frontier.Span);
                _tree.GetRoot(root);
                if (!root.SequenceEqual(snapshot.Root.Span))
                {
                    Report(AuditFindingKind.TileMismatch, snapshotBatch, snapshotPath, 0, $"The snapshot of batch {snapshotBatch} records a root that is not its own frontier's.");
                }

                CheckCheckpointsAt(snapshotBatch);
            }
        }

        /// <summary>After the replay: what it did not reach, checkpoints past the tree, and audit files longer than the journal's.</summary>
        private void FinishTree()
        {
            if (_stoppedAt is { } stopped)
            {
                int unverified = _checkpoints.Count - _nextBySize;
                Report(
                    AuditFindingKind.NotVerified,
                    stopped,
                    "",
                    0,
                    $"Replay stopped at batch {stopped} ({_stopReason}): batches {stopped} to {_lastBatch} were checked for framing, order and hash chain only; " +
                    $"their leaves, the tree after {_tree.Size} leaves, their headers' roots and signatures, and {unverified} checkpoints over more leaves were not verified.");
                return;
            }

            for (; _nextBySize < _checkpoints.Count; _nextBySize++)
            {
                StoredCheckpoint checkpoint = _checkpoints[_nextBySize];
                Report(
                    AuditFindingKind.CheckpointContradicted,
                    checkpoint.Batch,
                    _files.Checkpoints.Path,
                    checkpoint.Offset,
                    $"The checkpoint the ledger's key signed over {checkpoint.Size} leaves (through batch {checkpoint.Batch}) covers more than the journal's whole tree of {_tree.Size} leaves " +
                    $"(through batch {_lastBatch}): batches it covered were removed, or the journal was replaced.");
            }

            long resultsLength = _tree.Size * sizeof(uint);
            if (_files.Results.Exists && !_resultsBroken && _files.Results.Length > resultsLength)
            {
                Report(
                    AuditFindingKind.LeafMismatch,
                    0,
                    _files.Results.Path,
                    resultsLength,
                    $"results.bin holds {(_files.Results.Length - resultsLength) / sizeof(uint)} results past the journal's last leaf: leaves of batches the journal does not hold (a crash before the engine reopened, or a journal cut short).");
            }

            long batchesLength = (long)_lastBatch * BatchRecordSize;
            if (_files.Batches.Exists && !_batchesBroken && _files.Batches.Length > batchesLength)
            {
                Report(
                    AuditFindingKind.BatchIndexMismatch,
                    _lastBatch + 1,
                    _files.Batches.Path,
                    batchesLength,
                    $"batches.bin holds {(_files.Batches.Length - batchesLength) / BatchRecordSize} batch records past the journal's last batch {_lastBatch}.");
            }

            for (int level = 0; level < AuditFiles.Levels; level++)
            {
                FileReader file = _files.Hashes[level];
                long needed = (level * AuditLog.TileHeight >= 63 ? 0 : _tree.Size >> (level * AuditLog.TileHeight)) * MerkleHashes.Size;
                if (file.Exists && !_levelBroken[level] && file.Length > needed)
                {
                    Report(
                        AuditFindingKind.TileMismatch,
                        0,
                        file.Path,
                        needed,
                        $"hashes-{level}.bin holds {(file.Length - needed) / MerkleHashes.Size} hashes past the journal's tree of {_tree.Size} leaves.");
                }
            }
        }

        private static string DescribeBatchRecord(ReadOnlySpan<byte> r) =>
            $"(first leaf {BinaryPrimitives.ReadInt64LittleEndian(r)}, first timestamp {BinaryPrimitives.ReadUInt64LittleEndian(r[8..])}, " +
            $"batch {BinaryPrimitives.ReadUInt64LittleEndian(r[16..])}, {BinaryPrimitives.ReadInt32LittleEndian(r[24..])} events of {BinaryPrimitives.ReadInt32LittleEndian(r[28..])} bytes, " +
            $"operation {BinaryPrimitives.ReadUInt16LittleEndian(r[32..])}{(r[34..].ContainsAnyExcept((byte)0) ? ", reserved bytes not zero" : "")})";
    }

    /// <summary>A checkpoint whose note verified: where its record lies, the last batch it covers, its tree's size and root.</summary>
    private sealed record StoredCheckpoint(long Offset, ulong Batch, long Size, byte[] Root);
}
