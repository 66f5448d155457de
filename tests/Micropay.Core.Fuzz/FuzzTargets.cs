using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;
using Micropay.Core.Storage;

namespace Micropay.Core.Fuzz;

/// <summary>
/// The fuzz targets: one check per parser, shared by the AFL++ program (Program.cs) and the CI tests
/// (tests/Micropay.Core.Fuzz.Tests). A check takes any bytes and either returns or throws: a
/// <see cref="FuzzCheckException"/> when a property is broken, or whatever the parser threw (which is the bug).
/// </summary>
/// <remarks>
/// Every parser fuzzed here is a Try API (or a verifier returning a result), documented never to throw on bad input, so
/// any exception at all is a finding. Where a format is canonical the check also asserts parse -&gt; encode gives back
/// the same bytes, and where the input can be made well-formed (checksums the fuzzer cannot guess) the check repairs it
/// and asserts the parser accepts it.
/// </remarks>
public static class FuzzTargets
{
    /// <summary>The targets by name, in a stable order.</summary>
    public static IReadOnlyList<(string Name, Action<byte[]> Check)> All { get; } =
    [
        ("journal", Journal),
        ("snapshot", Snapshot),
        ("voucher", VoucherTarget),
        ("tick", TickTarget),
        ("certificate", Certificate),
        ("order", Order),
        ("authdata", AuthenticatorData),
        ("clientdata", ClientData),
        ("note", Note),
        ("checkpoint", CheckpointTarget),
        ("inclusion", Inclusion),
        ("consistency", Consistency),
    ];

    /// <summary>The check named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No target has that name.</exception>
    public static Action<byte[]> Get(string name)
    {
        foreach ((string n, Action<byte[]> check) in All)
        {
            if (n == name)
            {
                return check;
            }
        }

        throw new ArgumentException($"Unknown target '{name}'; the targets are: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));
    }

    // ---- Storage -----------------------------------------------------------------------------------------------------

    /// <summary>The salt of the segment the journal target frames its input in (any value; fixed so runs reproduce).</summary>
    internal const ulong SegmentSalt = 0x5EED_F022_0000_0001;

    /// <summary>
    /// Journal batches and the segment's record framing. The input is (1) parsed as one encoded CommitBatch (and its
    /// header), which must round-trip byte for byte when it parses; and (2) taken as a segment body after a sound file
    /// header, with the CRC of every frame the walk below reaches recomputed, then scanned: the scan must tile the file
    /// with records and damage, each sound record must re-encode to its payload, and when the repaired frames tile the
    /// whole body, every frame whose payload parses (with its frame's batch number) must come back as a sound record.
    /// </summary>
    public static void Journal(byte[] input)
    {
        CommitBatchParseResult headerResult = CommitBatchHeader.TryParse(input, out CommitBatchHeader header);
        if (headerResult == CommitBatchParseResult.Ok)
        {
            byte[] encoded = new byte[CommitBatchHeader.Size];
            header.Encode(encoded);
            Require(encoded.AsSpan().SequenceEqual(input.AsSpan(0, CommitBatchHeader.Size)), "a parsed batch header re-encodes to other bytes");
        }

        CommitBatchParseResult batchResult = CommitBatch.TryParse(input, out CommitBatch batch);
        Require(Enum.IsDefined(batchResult), $"CommitBatch.TryParse returned an undefined result {batchResult}");
        if (batchResult == CommitBatchParseResult.Ok)
        {
            Require(headerResult == CommitBatchParseResult.Ok, "a batch parsed whose header alone does not");
            Require(batch.EncodedLength == input.Length, "a parsed batch's encoded length differs from the input's");
            byte[] encoded = new byte[batch.EncodedLength];
            batch.Encode(encoded);
            Require(encoded.AsSpan().SequenceEqual(input), "a parsed batch re-encodes to other bytes");
        }
        else if (headerResult != CommitBatchParseResult.Ok)
        {
            Require(batchResult == headerResult, "the batch and its header disagree on what is wrong with the header");
        }

        ScanAsSegment(input);
    }

    private static void ScanAsSegment(byte[] body)
    {
        byte[] file = new byte[FileLedgerStore.FileHeaderSize + body.Length];
        FileLedgerStore.EncodeFileHeader(file, SegmentSalt, firstBatchNumber: 1);
        body.CopyTo(file, FileLedgerStore.FileHeaderSize);
        var crc = new Crc32(Crc32ParameterSet.Crc32C);

        // Repair the CRC of each frame the walk reaches, so the fuzzer gets past the checksum to the payloads.
        var expected = new List<(long Offset, ulong BatchNumber)>();
        long offset = FileLedgerStore.FileHeaderSize;
        bool tiled = false;
        while (true)
        {
            if (offset == file.Length)
            {
                tiled = true;
                break;
            }

            if (file.Length - offset < FileLedgerStore.FrameSize ||
                BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)offset)) != FileLedgerStore.RecordMagic)
            {
                break;
            }

            long length = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan((int)offset + 4));
            if (length < CommitBatchHeader.Size || length % 8 != 0 || length > file.Length - offset - FileLedgerStore.FrameSize)
            {
                break;
            }

            ulong frameBatch = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan((int)offset + 8));
            FileLedgerStore.EncodeFrame(file.AsSpan((int)offset), crc, SegmentSalt, frameBatch, (int)length);
            var payload = new ReadOnlyMemory<byte>(file, (int)offset + FileLedgerStore.FrameSize, (int)length);
            if (CommitBatch.TryParse(payload, out CommitBatch parsed) == CommitBatchParseResult.Ok && parsed.BatchNumber == frameBatch)
            {
                expected.Add((offset, frameBatch));
            }

            offset += FileLedgerStore.FrameSize + length;
        }

        using var storeFile = new MemoryStoreFile(file);
        string? headerProblem = FileLedgerStore.ReadSegmentHeader(storeFile, out ulong salt, out ulong first, out _);
        Require(headerProblem is null && salt == SegmentSalt && first == 1, $"a sound segment header was refused: {headerProblem}");

        long at = FileLedgerStore.FileHeaderSize;
        var sound = new List<(long Offset, ulong BatchNumber)>();
        foreach (ScannedRecord record in FileLedgerStore.ScanSegment(storeFile, SegmentSalt))
        {
            Require(record.Offset == at, $"the scan skipped or overlapped bytes: a record at {record.Offset}, expected {at}");
            Require(record.Length > 0, "the scan returned an empty record");
            at += record.Length;
            if (record.Problem is null)
            {
                Require(record.Batch.EncodedLength == record.Length - FileLedgerStore.FrameSize, "a sound record's batch length differs from its frame's");
                byte[] encoded = new byte[record.Batch.EncodedLength];
                record.Batch.Encode(encoded);
                Require(encoded.AsSpan().SequenceEqual(file.AsSpan((int)record.Offset + FileLedgerStore.FrameSize, encoded.Length)), "a sound record re-encodes to other bytes");
                sound.Add((record.Offset, record.BatchNumber));
            }
        }

        Require(at == file.Length, $"the scan stopped at {at} of {file.Length} bytes");
        if (tiled)
        {
            Require(sound.SequenceEqual(expected), $"the scan found {sound.Count} sound records where the repaired frames hold {expected.Count}");
        }
    }

    /// <summary>
    /// Snapshot files (64-byte header, then the state). The input is read as the file of the batch its header names,
    /// as it is and with its checksum recomputed; a file whose fields are all right must then be accepted, with exactly
    /// the file's state bytes; a file with any field wrong must be refused.
    /// </summary>
    public static void Snapshot(byte[] input)
    {
        ulong batchNumber = input.Length >= 16 ? BinaryPrimitives.ReadUInt64LittleEndian(input.AsSpan(8)) : 1;
        ReadSnapshot(input, batchNumber, mustParse: false);
        if (input.Length >= FileLedgerStore.SnapshotHeaderSize)
        {
            byte[] repaired = (byte[])input.Clone();
            ushort version = BinaryPrimitives.ReadUInt16LittleEndian(repaired.AsSpan(4));
            ReadOnlySpan<byte> state = repaired.AsSpan(FileLedgerStore.SnapshotHeaderSize);
            if (version == 2)
            {
                var hash = new XxHash128();
                hash.Append(repaired.AsSpan(0, 24));
                hash.Append(state);
                hash.GetCurrentHash(repaired.AsSpan(24, 16));
            }
            else if (version == 1)
            {
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                sha.AppendData(repaired.AsSpan(0, 24));
                sha.AppendData(state);
                sha.GetCurrentHash(repaired.AsSpan(24, 32));
            }

            bool wellFormed = BinaryPrimitives.ReadUInt32LittleEndian(repaired) == 0x5353_504D &&
                version is 1 or 2 &&
                BinaryPrimitives.ReadUInt16LittleEndian(repaired.AsSpan(6)) == FileLedgerStore.SnapshotHeaderSize &&
                !repaired.AsSpan(version == 1 ? 56 : 40, version == 1 ? 8 : 24).ContainsAnyExcept((byte)0) &&
                BinaryPrimitives.ReadInt64LittleEndian(repaired.AsSpan(16)) == state.Length;
            ReadSnapshot(repaired, batchNumber, wellFormed);
        }
    }

    private static void ReadSnapshot(byte[] file, ulong batchNumber, bool mustParse)
    {
        const string Path = "snapshot-fuzz.snap";
        string? problem = FileLedgerStore.TryReadSnapshotFile(new MemoryFileSystem(Path, file), Path, batchNumber, out LedgerSnapshot? snapshot);
        using (snapshot)
        {
            Require((problem is null) == (snapshot is not null), "the snapshot reader returned both or neither of a snapshot and a problem");
            Require(!mustParse || problem is null, $"a well-formed snapshot file was refused: {problem}");
            if (snapshot is not null)
            {
                Require(snapshot.BatchNumber == batchNumber, "the snapshot names another batch");
                Require(snapshot.State.ToArray().AsSpan().SequenceEqual(file.AsSpan(FileLedgerStore.SnapshotHeaderSize)), "the snapshot's state differs from the file's state bytes");
            }
        }
    }

    // ---- Channels ----------------------------------------------------------------------------------------------------

    /// <summary>Vouchers: TryParse never throws, reports an error exactly when it fails, and a parsed voucher re-encodes to the input.</summary>
    public static void VoucherTarget(byte[] input)
    {
        bool parsed = Voucher.TryParse(input, out Voucher voucher, out ChannelFormatError error);
        Require(parsed == (error == ChannelFormatError.None), $"Voucher.TryParse returned {parsed} with error {error}");
        Require(parsed || voucher == default, "a failed parse left a voucher behind");
        if (parsed)
        {
            byte[] encoded = new byte[Voucher.Size];
            Require(voucher.TryEncode(encoded, out int written) && written == Voucher.Size, "a parsed voucher does not encode");
            Require(encoded.AsSpan().SequenceEqual(input), "a parsed voucher re-encodes to other bytes");
        }
    }

    /// <summary>Hash-chain ticks: as vouchers.</summary>
    public static void TickTarget(byte[] input)
    {
        bool parsed = Tick.TryParse(input, out Tick tick, out TickFormatError error);
        Require(parsed == (error == TickFormatError.None), $"Tick.TryParse returned {parsed} with error {error}");
        if (parsed)
        {
            byte[] encoded = new byte[Tick.Size];
            Require(tick.TryEncode(encoded, out int written) && written == Tick.Size, "a parsed tick does not encode");
            Require(encoded.AsSpan().SequenceEqual(input), "a parsed tick re-encodes to other bytes");
            Require(new Tick(tick.ChannelId, tick.Index, input.AsSpan(24, 32)) == tick, "a tick rebuilt from its fields differs");
        }
    }

    /// <summary>Channel certificates (and the channel config inside): round trip of both, and the config's own parse agrees.</summary>
    public static void Certificate(byte[] input)
    {
        bool parsed = ChannelCertificate.TryParse(input, out ChannelCertificate? certificate, out ChannelFormatError error);
        Require(parsed == (error == ChannelFormatError.None) && parsed == (certificate is not null), $"ChannelCertificate.TryParse returned {parsed} with error {error}");
        if (certificate is not null)
        {
            byte[] encoded = new byte[ChannelCertificate.Size];
            Require(certificate.TryEncode(encoded, out int written) && written == ChannelCertificate.Size, "a parsed certificate does not encode");
            Require(encoded.AsSpan().SequenceEqual(input), "a parsed certificate re-encodes to other bytes");
            byte[] config = new byte[ChannelConfig.EncodedSize];
            certificate.Config.Encode(config);
            Require(input.AsSpan().IndexOf(config) >= 0, "the certificate's config re-encodes to bytes the certificate does not hold");
            using var key = SigningKey.Import(new byte[32], SigningKeyFormat.RawSeed);
            _ = certificate.Verify(key.VerificationKey);
        }

        // The config alone, read from every plausible place (so the fuzzer reaches its rules without a certificate).
        if (input.Length >= ChannelConfig.EncodedSize)
        {
            ReadOnlySpan<byte> tail = input.AsSpan(input.Length - ChannelConfig.EncodedSize);
            if (ChannelConfig.TryParse(tail, out ChannelConfig? config, out ChannelFormatError configError))
            {
                Require(configError == ChannelFormatError.None, "a parsed config reports an error");
                byte[] encoded = new byte[ChannelConfig.EncodedSize];
                config.Encode(encoded);
                Require(encoded.AsSpan().SequenceEqual(tail), "a parsed config re-encodes to other bytes");
            }
            else
            {
                Require(configError != ChannelFormatError.None && config is null, "a failed config parse reports no error");
            }
        }
    }

    // ---- Identity ----------------------------------------------------------------------------------------------------

    /// <summary>Signed payment orders (256 bytes, or 1024 with a co-signature or its all-zero "none"): round trip, and verification never throws.</summary>
    public static void Order(byte[] input)
    {
        bool parsed = PaymentOrder.TryParse(input, out PaymentOrder order, out IdentityFormatError error);
        Require(parsed == (error == IdentityFormatError.None), $"PaymentOrder.TryParse returned {parsed} with error {error}");
        if (parsed)
        {
            // A 1024-byte record whose co-signature is all zeros is an order without one (the record size is the
            // batch's, ExecuteCoSignedOrders): it re-encodes as a record of the input's size, and alone in 256 bytes.
            Require(order.EncodedSize == (order.CoSignature is null ? PaymentOrder.Size : PaymentOrder.CoSignedSize), "a parsed order's encoded size does not match its co-signature");
            byte[] encoded = new byte[input.Length];
            order.EncodeRecord(encoded, input.Length);
            Require(encoded.AsSpan().SequenceEqual(input), "a parsed order re-encodes to other bytes");
            byte[] alone = new byte[order.EncodedSize];
            order.Encode(alone);
            Require(alone.AsSpan().SequenceEqual(input.AsSpan(0, alone.Length)) && !input.AsSpan(alone.Length).ContainsAnyExcept((byte)0), "an order's own encoding is not its record without trailing zeros");
            using var key = SigningKey.Import(new byte[32], SigningKeyFormat.RawSeed);
            _ = order.Verify(key.VerificationKey, UInt128.One);
        }

        if (input.Length >= CoSignature.Size)
        {
            ReadOnlySpan<byte> tail = input.AsSpan(input.Length - CoSignature.Size);
            if (CoSignature.TryParse(tail, out CoSignature? coSignature, out IdentityFormatError coError))
            {
                // All zeros is "no co-signature": true with null (documented).
                Require(coError == IdentityFormatError.None, "a parsed co-signature reports an error");
                Require((coSignature is null) == !tail.ContainsAnyExcept((byte)0), "a co-signature is null exactly when its bytes are all zeros");
                if (coSignature is not null)
                {
                    byte[] encoded = new byte[CoSignature.Size];
                    coSignature.Encode(encoded);
                    Require(encoded.AsSpan().SequenceEqual(tail), "a parsed co-signature re-encodes to other bytes");
                }
            }
            else
            {
                Require(coError != IdentityFormatError.None, "a failed co-signature parse reports no error");
            }
        }
    }

    /// <summary>The relying party's hash of the fuzz origin: SHA-256 of "example.com".</summary>
    internal static readonly byte[] RpIdHash = SHA256.HashData("example.com"u8);

    /// <summary>
    /// WebAuthn authenticator data: Check never throws and returns a defined result, checked against the expected RP
    /// ID hash and against the input's own first 32 bytes (so the fuzzer gets past the hash to the flags and
    /// extensions); an RP ID hash that matches is never reported as a mismatch.
    /// </summary>
    public static void AuthenticatorData(byte[] input)
    {
        PasskeyResult fixedResult = WebAuthnAuthenticatorData.Check(input, RpIdHash);
        Require(Enum.IsDefined(fixedResult), $"undefined result {fixedResult}");
        _ = WebAuthnAuthenticatorData.SignCount(input);
        if (input.Length >= WebAuthnAuthenticatorData.RpIdHashSize)
        {
            PasskeyResult own = WebAuthnAuthenticatorData.Check(input, input.AsSpan(0, WebAuthnAuthenticatorData.RpIdHashSize));
            Require(Enum.IsDefined(own) && own != PasskeyResult.RpIdHashMismatch, $"the input's own RP ID hash gave {own}");
            if (input.Length >= WebAuthnAuthenticatorData.MinLength)
            {
                Require(own == PasskeyResult.Ok || own != PasskeyResult.MalformedAuthenticatorData, "37 bytes or more were called too short");
                bool extensions = (input[WebAuthnAuthenticatorData.FlagsOffset] & WebAuthnAuthenticatorData.ExtensionData) != 0;
                bool singleMap = CborReader.IsSingleMap(input.AsSpan(WebAuthnAuthenticatorData.MinLength));
                if (own == PasskeyResult.Ok)
                {
                    Require(extensions ? singleMap : input.Length == WebAuthnAuthenticatorData.MinLength, "authenticator data with malformed extensions was accepted");
                }
            }
            else
            {
                Require(own == PasskeyResult.MalformedAuthenticatorData, $"{input.Length} bytes of authenticator data gave {own}");
            }
        }
    }

    /// <summary>The challenge the client-data target expects (the corpus encodes it): 32 bytes 0..31.</summary>
    internal static readonly byte[] Challenge = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];

    /// <summary>The origin the client-data target expects.</summary>
    internal const string Origin = "https://example.com";

    /// <summary>
    /// WebAuthn clientDataJSON: Check never throws and returns a defined result; a leading UTF-8 byte order mark
    /// changes nothing (the check strips one); any other challenge gives no Ok.
    /// </summary>
    public static void ClientData(byte[] input)
    {
        PasskeyResult result = WebAuthnClientData.Check(input, Challenge, Encoding.UTF8.GetBytes(Origin));
        Require(Enum.IsDefined(result), $"undefined result {result}");
        if (!input.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            byte[] withBom = [0xEF, 0xBB, 0xBF, .. input];
            PasskeyResult bomResult = WebAuthnClientData.Check(withBom, Challenge, Encoding.UTF8.GetBytes(Origin));
            Require(bomResult == result, $"a byte order mark changed the result from {result} to {bomResult}");
        }

        byte[] otherChallenge = (byte[])Challenge.Clone();
        otherChallenge[0] ^= 1;
        PasskeyResult other = WebAuthnClientData.Check(input, otherChallenge, Encoding.UTF8.GetBytes(Origin));
        Require(Enum.IsDefined(other) && other is not (PasskeyResult.Ok or PasskeyResult.CrossOrigin), $"another challenge gave {other}");

        // An over-long challenge cannot be encoded in 512 bytes of JSON: it must simply not match.
        PasskeyResult longChallenge = WebAuthnClientData.Check(input, new byte[1024], Encoding.UTF8.GetBytes(Origin));
        Require(Enum.IsDefined(longChallenge) && longChallenge is not (PasskeyResult.Ok or PasskeyResult.CrossOrigin), $"a 1024-byte challenge gave {longChallenge}");
    }

    // ---- Audit -------------------------------------------------------------------------------------------------------

    /// <summary>The seed of the note key the note target knows: 32 bytes of 7.</summary>
    internal static readonly byte[] NoteKeySeed = [.. Enumerable.Repeat((byte)7, 32)];

    /// <summary>The name of the note key the note target knows.</summary>
    internal const string NoteKeyName = "fuzz.example/log";

    // Lazy: instrumented library code must not run before SharpFuzz sets up its shared memory (Fuzzer.OutOfProcess.Run),
    // and a static initializer would run it as soon as the program looks up its target.
    private static readonly Lazy<NoteVerifierKey> NoteVerifierLazy = new(CreateNoteVerifier);

    private static NoteVerifierKey NoteVerifier => NoteVerifierLazy.Value;

    private static NoteVerifierKey CreateNoteVerifier()
    {
        using var key = SigningKey.Import(NoteKeySeed, SigningKeyFormat.RawSeed);
        return NoteVerifierKey.Create(NoteKeyName, key.VerificationKey);
    }

    /// <summary>
    /// C2SP signed notes: TryOpen never throws and returns a defined result; Ok means a signature verified and the
    /// text came back; a note that splits is exactly its text, a blank line and its signature lines (canonical); a
    /// note that opens still opens with its signature lines in another order.
    /// </summary>
    public static void Note(byte[] input)
    {
        NoteResult result = SignedNote.TryOpen(input, [NoteVerifier], out string? text, out int verifiedBy);
        Require(Enum.IsDefined(result), $"undefined result {result}");
        Require(result != NoteResult.Ok || (verifiedBy >= 1 && text is not null), "an opened note has no verified signature or no text");
        _ = SignedNote.TryOpen(input, [], out _, out int none);
        Require(none == 0, "a note verified with no known key");

        NoteResult split = SignedNote.TrySplit(input, out string? body, out string[] lines);
        Require(Enum.IsDefined(split), $"undefined split result {split}");
        if (split == NoteResult.Ok)
        {
            Require(body is not null && lines.Length >= 1, "a split note has no text or no signature line");
            string rebuilt = body + "\n" + string.Join('\n', lines) + "\n";
            Require(Encoding.UTF8.GetBytes(rebuilt).AsSpan().SequenceEqual(input), "a split note does not rebuild to its bytes");
            foreach (string line in lines)
            {
                if (SignedNote.TryParseLine(line, out string name, out uint keyId, out byte[] signature))
                {
                    byte[] blob = new byte[4 + signature.Length];
                    BinaryPrimitives.WriteUInt32BigEndian(blob, keyId);
                    signature.CopyTo(blob, 4);
                    // The base64 is read as Go's note package reads it (not strictly: unused low bits of the last
                    // character are ignored), so a line is compared by what it decodes to, not by its text.
                    string rebuiltLine = SignedNote.Dash + name + " " + Convert.ToBase64String(blob);
                    Require(SignedNote.TryParseLine(rebuiltLine, out string name2, out uint keyId2, out byte[] signature2) &&
                        name2 == name && keyId2 == keyId && signature2.AsSpan().SequenceEqual(signature), "a signature line does not rebuild to the same fields");
                }
            }

            // A known key's first line decides and its later lines are ignored, so only lines of distinct keys commute.
            bool distinctKeys = lines.Select(l => SignedNote.TryParseLine(l, out string n, out uint k, out _) ? (n, k) : (l, 0u)).Distinct().Count() == lines.Length;
            if (result == NoteResult.Ok && lines.Length > 1 && distinctKeys)
            {
                string reversed = body + "\n" + string.Join('\n', lines.Reverse()) + "\n";
                NoteResult again = SignedNote.TryOpen(Encoding.UTF8.GetBytes(reversed), [NoteVerifier], out string? againText, out _);
                Require(again == NoteResult.Ok && againText == text, $"reordering the signature lines of an opened note gave {again}");
            }
        }
        else
        {
            Require(result == split, $"a note that does not split ({split}) opened as {result}");
        }
    }

    /// <summary>Checkpoint bodies: TryParse never throws; a parsed checkpoint's text is exactly the input (canonical), and parses again to the same fields.</summary>
    public static void CheckpointTarget(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        bool parsed = Checkpoint.TryParse(text, out Checkpoint? checkpoint, out string? error);
        Require(parsed == (checkpoint is not null) && parsed == (error is null), "Checkpoint.TryParse's result, checkpoint and error disagree");
        if (checkpoint is not null)
        {
            string again = checkpoint.ToText();
            Require(again == text, "a parsed checkpoint's text differs from its input");
            Require(Checkpoint.TryParse(again, out Checkpoint? reparsed, out _) && reparsed.Size == checkpoint.Size &&
                reparsed.Origin == checkpoint.Origin && reparsed.RootHash.SequenceEqual(checkpoint.RootHash) &&
                reparsed.Extensions.SequenceEqual(checkpoint.Extensions), "a checkpoint's text parses to other fields");
            Checkpoint created = Checkpoint.Create(checkpoint.Origin, checkpoint.Size, checkpoint.RootHash, [.. checkpoint.Extensions]);
            Require(created.ToText() == text, "a checkpoint created from parsed fields has other text");
        }
    }

    private static readonly Lazy<MerkleLog> TreeLazy = new(CreateTree);

    private static MerkleLog Tree => TreeLazy.Value;

    /// <summary>The most leaves the proof targets' tree holds.</summary>
    internal const int TreeLeaves = 300;

    private static MerkleLog CreateTree()
    {
        var log = new MerkleLog();
        for (int i = 0; i < TreeLeaves; i++)
        {
            log.AppendLeaf(BitConverter.GetBytes(i));
        }

        return log;
    }

    /// <summary>
    /// Inclusion proofs. Input: size (2 bytes, 1..300 of a fixed tree), index (2 bytes), a mode byte, then bytes that
    /// replace (mode bit 0) or are XORed over and appended to (otherwise) the real proof. The real proof must verify;
    /// any proof that verifies must be the real one (RFC 9162 proofs are unique); with mode bit 1 the rest is read as
    /// arbitrary index and size (any long), which must never throw.
    /// </summary>
    public static void Inclusion(byte[] input)
    {
        if (input.Length < 5)
        {
            _ = MerkleProofs.VerifyInclusion(0, 1, input, input, input);
            return;
        }

        byte mode = input[4];
        ReadOnlySpan<byte> rest = input.AsSpan(5);
        if ((mode & 2) != 0 && rest.Length >= 16)
        {
            long anyIndex = BinaryPrimitives.ReadInt64LittleEndian(rest);
            long anySize = BinaryPrimitives.ReadInt64LittleEndian(rest[8..]);
            ReadOnlySpan<byte> proof = rest[16..];
            _ = MerkleProofs.VerifyInclusion(anyIndex, anySize, new byte[32], proof[..(proof.Length / 32 * 32)], new byte[32]);
            return;
        }

        long size = 1 + (BinaryPrimitives.ReadUInt16LittleEndian(input) % TreeLeaves);
        long index = BinaryPrimitives.ReadUInt16LittleEndian(input.AsSpan(2)) % (size + 2);
        byte[] root = new byte[32];
        Tree.GetRoot(size, root);
        byte[] leaf = new byte[32];
        MerkleHashes.Leaf(BitConverter.GetBytes((int)index), leaf);
        if (index >= size)
        {
            Require(!MerkleProofs.VerifyInclusion(index, size, leaf, rest[..(rest.Length / 32 * 32)], root), "a proof verified for an index outside the tree");
            return;
        }

        byte[] real = Tree.GetInclusionProof(index, size);
        Require(MerkleProofs.VerifyInclusion(index, size, leaf, real, root), "a real inclusion proof does not verify");
        byte[] given = Mutate(real, rest, replace: (mode & 1) != 0);
        bool verified = MerkleProofs.VerifyInclusion(index, size, leaf, given, root);
        Require(!verified || given.AsSpan().SequenceEqual(real), "a proof other than the real one verified");
    }

    /// <summary>
    /// Consistency proofs, as inclusion: sizes 0..300 of a fixed tree (size1 &lt;= size2 + 1), the real proof verifies,
    /// no other proof does, and arbitrary sizes never throw.
    /// </summary>
    public static void Consistency(byte[] input)
    {
        if (input.Length < 5)
        {
            _ = MerkleProofs.VerifyConsistency(0, 1, input, input, input);
            return;
        }

        byte mode = input[4];
        ReadOnlySpan<byte> rest = input.AsSpan(5);
        if ((mode & 2) != 0 && rest.Length >= 16)
        {
            long anySize1 = BinaryPrimitives.ReadInt64LittleEndian(rest);
            long anySize2 = BinaryPrimitives.ReadInt64LittleEndian(rest[8..]);
            ReadOnlySpan<byte> proof = rest[16..];
            byte[] zero = new byte[32];
            _ = MerkleProofs.VerifyConsistency(anySize1, anySize2, zero, zero, proof[..(proof.Length / 32 * 32)]);
            _ = MerkleProofs.VerifyConsistency(anySize1, anySize2, MerkleHashes.EmptyRoot, zero, proof[..(proof.Length / 32 * 32)]);
            return;
        }

        long size2 = BinaryPrimitives.ReadUInt16LittleEndian(input) % (TreeLeaves + 1);
        long size1 = BinaryPrimitives.ReadUInt16LittleEndian(input.AsSpan(2)) % (size2 + 2);
        byte[] root1 = new byte[32];
        byte[] root2 = new byte[32];
        Tree.GetRoot(Math.Min(size1, TreeLeaves), root1);
        Tree.GetRoot(size2, root2);
        if (size1 > size2)
        {
            Require(!MerkleProofs.VerifyConsistency(size1, size2, root1, root2, rest[..(rest.Length / 32 * 32)]), "a consistency proof verified from a larger tree");
            return;
        }

        byte[] real = Tree.GetConsistencyProof(size1, size2);
        Require(MerkleProofs.VerifyConsistency(size1, size2, root1, root2, real), "a real consistency proof does not verify");
        byte[] given = Mutate(real, rest, replace: (mode & 1) != 0);
        bool verified = MerkleProofs.VerifyConsistency(size1, size2, root1, root2, given);
        Require(!verified || given.AsSpan().SequenceEqual(real), "a consistency proof other than the real one verified");
    }

    private static byte[] Mutate(byte[] real, ReadOnlySpan<byte> rest, bool replace)
    {
        if (replace)
        {
            return rest.ToArray();
        }

        byte[] given = new byte[Math.Max(real.Length, rest.Length)];
        real.CopyTo(given, 0);
        for (int i = 0; i < rest.Length; i++)
        {
            given[i] ^= rest[i];
        }

        return given;
    }

    private static void Require(bool condition, string property)
    {
        if (!condition)
        {
            throw new FuzzCheckException(property);
        }
    }
}
