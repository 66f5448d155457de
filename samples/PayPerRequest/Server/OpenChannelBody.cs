namespace PayPerRequest.Server;

/// <summary>The body of <c>POST /channels</c>.</summary>
/// <param name="OpenRequest">The base64 of the payer's signed <c>ChannelOpenRequest</c> (256 bytes).</param>
public sealed record OpenChannelBody(string? OpenRequest);
