using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Micropay.Core.Audit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;
using Micropay.Core.Identity;
using Micropay.Core.Ledger;
using Micropay.Core.Storage;

namespace Micropay.Core.Fuzz;

/// <summary>
/// Writes the seed corpus: small valid inputs made by the library's own encoders (fixed keys, so the files are the
/// same on every run) and a few edge cases per target. Checked in under corpus/&lt;target&gt;/.
/// </summary>
internal static class SeedCorpus
{
    public static int Write(string root)
    {
        int count = 0;
        foreach ((string target, IEnumerable<(string Name, byte[] Bytes)> seeds) in Seeds())
        {
            string folder = Path.Combine(root, target);
            Directory.CreateDirectory(folder);
            foreach ((string name, byte[] bytes) in seeds)
            {
                File.WriteAllBytes(Path.Combine(folder, name), bytes);
                count++;
            }
        }

        return count;
    }

    private static IEnumerable<(string, IEnumerable<(string, byte[])>)> Seeds()
    {
        yield return ("journal", Journal());
        yield return ("snapshot", Snapshot());
        yield return ("voucher", Vouchers());
        yield return ("tick", Ticks());
        yield return ("certificate", Certificates());
        yield return ("order", Orders());
        yield return ("authdata", AuthenticatorData());
        yield return ("clientdata", ClientData());
        yield return ("note", Notes());
        yield return ("checkpoint", Checkpoints());
        yield return ("inclusion", Proofs());
        yield return ("consistency", Proofs());
    }

    private static SigningKey Key(byte fill) => SigningKey.Import([.. Enumerable.Repeat(fill, 32)], SigningKeyFormat.RawSeed);

    private static byte[] Batch(ulong number, BatchOperation operation, int events, int eventSize, bool version2)
    {
        byte[] payload = new byte[events * eventSize];
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = unchecked((byte)(i * 7));
        }

        var previous = BatchHash.Compute(BitConverter.GetBytes(number));
        CommitBatchHeader header = version2
            ? CommitBatchHeader.WithAuditTree(number, operation, 1_000 + number, events, previous, previous, number * 3, eventSize)
            : new CommitBatchHeader(number, operation, 1_000 + number, events, number == 1 ? BatchHash.Zero : previous, BatchHash.Zero, eventSize);
        var batch = new CommitBatch(header, payload);
        byte[] encoded = new byte[batch.EncodedLength];
        batch.Encode(encoded);
        return encoded;
    }

    private static byte[] Record(byte[] batch, ulong number)
    {
        byte[] record = new byte[FileLedgerStore.FrameSize + batch.Length];
        batch.CopyTo(record, FileLedgerStore.FrameSize);
        FileLedgerStore.EncodeFrame(record, new Crc32(Crc32ParameterSet.Crc32C), FuzzTargets.SegmentSalt, number, batch.Length);
        return record;
    }

    private static IEnumerable<(string, byte[])> Journal()
    {
        byte[] b1 = Batch(1, BatchOperation.CreateAccounts, 0, 128, version2: false);
        byte[] b2 = Batch(2, BatchOperation.CreateTransfers, 1, 128, version2: true);
        byte[] b3 = Batch(3, BatchOperation.RedeemVouchers, 2, 8, version2: true);
        byte[] b4 = Batch(4, BatchOperation.ExecuteCoSignedOrders, 1, 64, version2: false);
        yield return ("batch-empty-v1", b1);
        yield return ("batch-one-transfer-v2", b2);
        yield return ("batch-two-small-events-v2", b3);
        yield return ("batch-64-byte-event-v1", b4);
        yield return ("batch-truncated", b2[..^1]);
        yield return ("batch-trailing-byte", [.. b1, 0]);
        yield return ("record-one", Record(b2, 2));
        yield return ("records-three", [.. Record(b1, 1), .. Record(b2, 2), .. Record(b3, 3)]);
        yield return ("records-frame-number-mismatch", Record(b2, 9));
        yield return ("records-torn-tail", [.. Record(b1, 1), .. Record(b2, 2)[..40]]);
        yield return ("records-garbage-between", [.. Record(b1, 1), 1, 2, 3, 4, 5, 6, 7, 8, .. Record(b3, 3)]);
        yield return ("empty", []);
    }

    private static byte[] SnapshotFile(ulong batch, byte[] state, ushort version)
    {
        byte[] file = new byte[FileLedgerStore.SnapshotHeaderSize + state.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(file, 0x5353_504D);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(4), version);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(6), FileLedgerStore.SnapshotHeaderSize);
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(8), batch);
        BinaryPrimitives.WriteInt64LittleEndian(file.AsSpan(16), state.Length);
        state.CopyTo(file, FileLedgerStore.SnapshotHeaderSize);
        if (version == 2)
        {
            var hash = new XxHash128();
            hash.Append(file.AsSpan(0, 24));
            hash.Append(state);
            hash.GetCurrentHash(file.AsSpan(24, 16));
        }
        else
        {
            byte[] sha = SHA256.HashData([.. file.AsSpan(0, 24), .. state]);
            sha.CopyTo(file, 24);
        }

        return file;
    }

    private static IEnumerable<(string, byte[])> Snapshot()
    {
        byte[] state = [.. Enumerable.Range(0, 100).Select(i => (byte)i)];
        yield return ("v2-empty-state", SnapshotFile(1, [], 2));
        yield return ("v2-100-bytes", SnapshotFile(7, state, 2));
        yield return ("v1-sha256", SnapshotFile(3, state[..40], 1));
        byte[] wrongLength = SnapshotFile(5, state[..10], 2);
        BinaryPrimitives.WriteInt64LittleEndian(wrongLength.AsSpan(16), 11);
        yield return ("v2-length-too-long", wrongLength);
        byte[] negative = SnapshotFile(5, state[..10], 2);
        BinaryPrimitives.WriteInt64LittleEndian(negative.AsSpan(16), -1);
        yield return ("v2-negative-length", negative);
        yield return ("header-only-truncated", SnapshotFile(9, [], 2)[..63]);
    }

    private static IEnumerable<(string, byte[])> Vouchers()
    {
        using SigningKey key = Key(1);
        (uint Lane, ulong Sequence, UInt128 Amount, ulong Until)[] fields =
            [(0, 1, 1, 1), (3, 42, 1_000_000, 5_000_000_000), (uint.MaxValue, ulong.MaxValue, UInt128.MaxValue, ulong.MaxValue)];
        int i = 0;
        foreach ((uint lane, ulong sequence, UInt128 amount, ulong until) in fields)
        {
            Voucher voucher = Voucher.Sign(key, 1, 0xC0FFEE, lane, sequence, amount, until);
            byte[] bytes = new byte[Voucher.Size];
            voucher.Encode(bytes);
            yield return ($"voucher-{i++}", bytes);
            if (i == 1)
            {
                byte[] reserved = (byte[])bytes.Clone();
                reserved[2] = 1;
                yield return ("voucher-reserved-set", reserved);
                yield return ("voucher-short", bytes[..^1]);
            }
        }
    }

    private static IEnumerable<(string, byte[])> Ticks()
    {
        byte[] word = SHA256.HashData("tick"u8);
        foreach ((uint index, UInt128 channel) in new (uint, UInt128)[] { (1, 1), (77, 0xABCDEF), (uint.MaxValue, UInt128.MaxValue) })
        {
            byte[] bytes = new byte[Tick.Size];
            new Tick(channel, index, word).Encode(bytes);
            yield return ($"tick-{index}", bytes);
        }

        byte[] zeroIndex = new byte[Tick.Size];
        new Tick(5, 1, word).Encode(zeroIndex);
        zeroIndex[4] = 0;
        yield return ("tick-zero-index", zeroIndex);
    }

    private static IEnumerable<(string, byte[])> Certificates()
    {
        using SigningKey ledger = Key(2);
        using SigningKey payer = Key(3);
        ChannelConfig cumulative = ChannelConfig.CreateCumulative(1, 10, 11, 1, payer.VerificationKey, 9_000_000_000, 60_000_000_000, 5);
        ChannelConfig chain = ChannelConfig.CreateHashChain(1, 10, 11, 1, payer.VerificationKey, 9_000_000_000, 60_000_000_000, 6, SHA256.HashData("root"u8), 100, 1000);
        int i = 0;
        foreach (ChannelConfig config in new[] { cumulative, chain })
        {
            ChannelCertificate certificate = ChannelCertificate.Issue(ledger, config, 1_000_000, 1_000);
            byte[] bytes = new byte[ChannelCertificate.Size];
            certificate.Encode(bytes);
            yield return ($"certificate-{i++}", bytes);
        }

        byte[] zeroDeposit = new byte[ChannelCertificate.Size];
        ChannelCertificate.Issue(ledger, cumulative, 1, 1).Encode(zeroDeposit);
        zeroDeposit[16] = 0;
        yield return ("certificate-zero-deposit", zeroDeposit);
    }

    private static IEnumerable<(string, byte[])> Orders()
    {
        using SigningKey device = Key(4);
        using SigningKey coSigner = Key(5);
        var transfer = new Transfer { Id = 100, DebitAccountId = 10, CreditAccountId = 11, Amount = 250, LedgerId = 1, Code = 7, UserData128 = 9, UserData64 = 8, UserData32 = 6 };
        PaymentOrder order = PaymentOrder.Sign(device, 1, transfer, 5_000_000_000);
        byte[] plain = new byte[order.EncodedSize];
        order.Encode(plain);
        yield return ("order-plain", plain);
        PaymentOrder coSigned = order.WithCoSignature(CoSignature.SignEd25519(coSigner, order, 1));
        byte[] withCo = new byte[coSigned.EncodedSize];
        coSigned.Encode(withCo);
        yield return ("order-cosigned", withCo);
        yield return ("order-cosigned-truncated", withCo[..PaymentOrder.Size]);
        byte[] record = new byte[PaymentOrder.CoSignedSize];
        order.EncodeRecord(record, PaymentOrder.CoSignedSize);
        yield return ("order-1024-record-without-cosignature", record);
        PaymentOrder maximal = PaymentOrder.Sign(device, 1, transfer with { Amount = UInt128.MaxValue, UserData64 = ulong.MaxValue }, ulong.MaxValue);
        byte[] max = new byte[maximal.EncodedSize];
        maximal.Encode(max);
        yield return ("order-maximal", max);
    }

    private static byte[] AuthData(byte flags, uint signCount, byte[] extensions)
    {
        byte[] data = new byte[WebAuthnAuthenticatorData.MinLength + extensions.Length];
        FuzzTargets.RpIdHash.CopyTo(data, 0);
        data[WebAuthnAuthenticatorData.FlagsOffset] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(WebAuthnAuthenticatorData.SignCountOffset), signCount);
        extensions.CopyTo(data, WebAuthnAuthenticatorData.MinLength);
        return data;
    }

    private static IEnumerable<(string, byte[])> AuthenticatorData()
    {
        yield return ("up-uv", AuthData(0x05, 1, []));
        yield return ("up-uv-be-bs", AuthData(0x1D, 123456, []));
        yield return ("up-only", AuthData(0x01, 0, []));
        yield return ("backed-up-not-eligible", AuthData(0x15, 2, []));
        yield return ("attested", AuthData(0x45, 2, []));

        // Extension maps: {} ; {"credProtect": 2} ; {"a": [1, {"b": h'00ff'}]} ; an indefinite map.
        yield return ("ext-empty-map", AuthData(0x85, 3, [0xA0]));
        yield return ("ext-credprotect", AuthData(0x85, 3, [0xA1, 0x6B, .. "credProtect"u8, 0x02]));
        yield return ("ext-nested", AuthData(0x85, 3, [0xA1, 0x61, 0x61, 0x82, 0x01, 0xA1, 0x61, 0x62, 0x42, 0x00, 0xFF]));
        yield return ("ext-indefinite", AuthData(0x85, 3, [0xBF, 0x61, 0x61, 0x01, 0xFF]));
        yield return ("ext-two-maps", AuthData(0x85, 3, [0xA0, 0xA0]));
        yield return ("ext-flag-without-data", AuthData(0x85, 3, []));
        yield return ("short", AuthData(0x05, 1, [])[..36]);
    }

    private static IEnumerable<(string, byte[])> ClientData()
    {
        string challenge = Convert.ToBase64String(FuzzTargets.Challenge).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        string origin = FuzzTargets.Origin;
        yield return ("browser", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"{origin}\",\"crossOrigin\":false}}"));
        yield return ("minimal", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"{origin}\"}}"));
        yield return ("cross-origin", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"{origin}\",\"crossOrigin\":true,\"topOrigin\":\"https://other.example\"}}"));
        yield return ("escaped", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn\\u002eget\",\"challenge\":\"{challenge}\",\"origin\":\"https:\\/\\/example.com\",\"other\":{{\"x\":[1,2,{{}}]}}}}"));
        yield return ("wrong-type", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.create\",\"challenge\":\"{challenge}\",\"origin\":\"{origin}\"}}"));
        yield return ("duplicate-member", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"{origin}\"}}"));
        yield return ("lone-surrogate", Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"\\ud800\"}}"));
        yield return ("bom", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{{\"type\":\"webauthn.get\",\"challenge\":\"{challenge}\",\"origin\":\"{origin}\"}}")]);
        yield return ("not-json", "webauthn.get"u8.ToArray());
    }

    private static IEnumerable<(string, byte[])> Notes()
    {
        using SigningKey key = SigningKey.Import(FuzzTargets.NoteKeySeed, SigningKeyFormat.RawSeed);
        using SigningKey other = Key(6);
        string body = "fuzz.example/log\n3\n" + Convert.ToBase64String(SHA256.HashData("root"u8)) + "\n";
        string signed = SignedNote.Sign(body, FuzzTargets.NoteKeyName, key);
        yield return ("one-signature", Encoding.UTF8.GetBytes(signed));
        NoteVerifierKey otherVerifier = NoteVerifierKey.Create("witness.example", other.VerificationKey);
        yield return ("two-signatures", Encoding.UTF8.GetBytes(signed + SignedNote.SignatureLine(body, otherVerifier, other)));
        yield return ("unknown-key-only", Encoding.UTF8.GetBytes(SignedNote.Sign(body, "witness.example", other)));
        yield return ("text-with-blank-lines", Encoding.UTF8.GetBytes(SignedNote.Sign("a\n\nb\n", FuzzTargets.NoteKeyName, key)));
        yield return ("no-signature", Encoding.UTF8.GetBytes(body + "\n"));
        yield return ("bad-signature", Encoding.UTF8.GetBytes(signed.Replace(body, body.Replace('3', '4'), StringComparison.Ordinal)));
    }

    private static IEnumerable<(string, byte[])> Checkpoints()
    {
        byte[] root = SHA256.HashData("root"u8);
        yield return ("basic", Encoding.UTF8.GetBytes(Checkpoint.Create("fuzz.example/log", 3, root).ToText()));
        yield return ("empty-tree", Encoding.UTF8.GetBytes(Checkpoint.Create("fuzz.example/log", 0, MerkleHashes.EmptyRoot).ToText()));
        yield return ("extensions", Encoding.UTF8.GetBytes(Checkpoint.Create("o", long.MaxValue, root, "ext one", "ext-two ✓").ToText()));
        yield return ("leading-zero", Encoding.UTF8.GetBytes("o\n03\n" + Convert.ToBase64String(root) + "\n"));
        yield return ("no-final-newline", Encoding.UTF8.GetBytes("o\n3\n" + Convert.ToBase64String(root)));
        yield return ("size-2-63", Encoding.UTF8.GetBytes("o\n9223372036854775808\n" + Convert.ToBase64String(root) + "\n"));
    }

    private static IEnumerable<(string, byte[])> Proofs()
    {
        foreach ((ushort size, ushort index) in new (ushort, ushort)[] { (0, 0), (1, 0), (6, 3), (7, 7), (63, 31), (255, 100), (299, 298) })
        {
            byte[] input = new byte[5];
            BinaryPrimitives.WriteUInt16LittleEndian(input, size);
            BinaryPrimitives.WriteUInt16LittleEndian(input.AsSpan(2), index);
            yield return ($"xor-{size}-{index}", input);
        }

        byte[] replace = new byte[5 + 64];
        BinaryPrimitives.WriteUInt16LittleEndian(replace, 4);
        BinaryPrimitives.WriteUInt16LittleEndian(replace.AsSpan(2), 1);
        replace[4] = 1;
        yield return ("replace-two-zero-hashes", replace);
        byte[] any = new byte[5 + 16 + 32];
        any[4] = 2;
        BinaryPrimitives.WriteInt64LittleEndian(any.AsSpan(5), long.MaxValue - 1);
        BinaryPrimitives.WriteInt64LittleEndian(any.AsSpan(13), long.MaxValue);
        yield return ("any-huge-sizes", any);
    }
}
