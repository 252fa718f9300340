using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Funnel.AspNetCore;

/// <summary>Reads request bodies within limits, turning every way a body can be wrong into a 4xx ProblemDetails.</summary>
/// <remarks>
/// A body over its limit, a form with too many fields or too long a value, a broken multipart body and a client that
/// goes away mid-body are the caller's problem, not the server's: none of them may become a 500 or an error with a
/// stack trace in the log.
/// </remarks>
internal static class RequestBodies
{
    /// <summary>The limits of one endpoint's form.</summary>
    /// <param name="MaxBodyBytes">The largest body, in bytes.</param>
    /// <param name="MaxFields">The most form fields (keys and values), files included.</param>
    /// <param name="MaxValueLength">The longest field value, in characters.</param>
    internal sealed record FormLimits(int MaxBodyBytes, int MaxFields, int MaxValueLength);

    /// <summary>A form read, or why it could not be.</summary>
    /// <param name="Form">The form, when read.</param>
    /// <param name="Problem">The answer to give instead, when not.</param>
    internal readonly record struct FormRead(IFormCollection? Form, IResult? Problem);

    /// <summary>Caps what the server reads of this request's body, where the server lets us.</summary>
    public static void LimitBody(HttpContext context, long maxBytes)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes;
        }
    }

    /// <summary>Reads the form within <paramref name="limits"/>; on failure returns the ProblemDetails that names the problem.</summary>
    public static async Task<FormRead> ReadFormAsync(HttpContext context, FormLimits limits, string title, CancellationToken cancellationToken)
    {
        HttpRequest request = context.Request;
        if (request.ContentLength > limits.MaxBodyBytes)
        {
            return new FormRead(null, TooLarge(title, limits.MaxBodyBytes));
        }

        LimitBody(context, limits.MaxBodyBytes);
        context.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
        {
            ValueCountLimit = limits.MaxFields,
            ValueLengthLimit = limits.MaxValueLength,
            KeyLengthLimit = 256,
            MultipartBodyLengthLimit = limits.MaxBodyBytes,
            MultipartHeadersCountLimit = 8,
            MultipartHeadersLengthLimit = 4 * 1024,
            MultipartBoundaryLengthLimit = 128,
            MemoryBufferThreshold = limits.MaxBodyBytes,
        }));
        try
        {
            IFormCollection form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
            if (form.Files.Count > 0)
            {
                return new FormRead(null, Problem(title, "body", "The form must not carry files."));
            }

            return new FormRead(form, null);
        }
        catch (InvalidDataException ex)
        {
            // Thrown by the form readers for a value, key or count over the limits and for a broken multipart body.
            return new FormRead(null, Problem(title, "body",
                $"The form is malformed or over its limits (at most {limits.MaxFields} fields of {limits.MaxValueLength} characters, "
                + $"{limits.MaxBodyBytes} bytes in all): {ex.Message}"));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new FormRead(null, TooLarge(title, limits.MaxBodyBytes));
        }
        catch (Exception ex) when (IsClientGone(context, ex))
        {
            return new FormRead(null, ClientGone());
        }
    }

    /// <summary>Copies the body into memory within <paramref name="maxBytes"/>; on failure returns the ProblemDetails to answer.</summary>
    public static async Task<(byte[]? Body, IResult? Problem)> ReadBytesAsync(HttpContext context, int maxBytes, string title, CancellationToken cancellationToken)
    {
        if (context.Request.ContentLength > maxBytes)
        {
            return (null, TooLarge(title, maxBytes));
        }

        LimitBody(context, maxBytes);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    // The server did not cap the body (a test host, a chunked body without a Kestrel limit): we do.
                    return (null, TooLarge(title, maxBytes));
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge(title, maxBytes));
        }
        catch (Exception ex) when (IsClientGone(context, ex))
        {
            return (null, ClientGone());
        }

        return (buffer.ToArray(), null);
    }

    /// <summary>Whether <paramref name="error"/> only means the client stopped sending: the request was aborted, the connection reset or the body ended early.</summary>
    public static bool IsClientGone(HttpContext context, Exception error) =>
        context.RequestAborted.IsCancellationRequested && error is OperationCanceledException or IOException
        || error is IOException // ConnectionResetException and other transport errors while reading the body
        || error is BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest };

    /// <summary>The answer to a client that went away: it will never read it, so it is a plain 400 with nothing logged.</summary>
    public static IResult ClientGone() => Problem("The request was rejected.", "body", "The request body ended before it was complete.");

    /// <summary>A 413 ProblemDetails naming the body.</summary>
    public static IResult TooLarge(string title, long maxBytes) => Results.ValidationProblem(
        new Dictionary<string, string[]>(StringComparer.Ordinal) { ["body"] = [$"The body must be at most {maxBytes} bytes."] },
        title: title,
        statusCode: StatusCodes.Status413PayloadTooLarge);

    /// <summary>A 400 ProblemDetails whose <c>errors</c> name <paramref name="field"/>.</summary>
    public static IResult Problem(string title, string field, string message) =>
        Results.ValidationProblem(new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] }, title: title);

    /// <summary>Returns the first form field whose name or value holds a NUL or another control character other than tab, CR and LF.</summary>
    public static string? FieldWithControlCharacters(IFormCollection form)
    {
        foreach (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues> field in form)
        {
            if (HasControl(field.Key))
            {
                return "body";
            }

            foreach (string? value in field.Value)
            {
                if (value is not null && HasControl(value))
                {
                    return field.Key;
                }
            }
        }

        return null;
    }

    private static bool HasControl(string text)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c) && c is not ('\t' or '\r' or '\n'))
            {
                return true;
            }
        }

        return false;
    }
}
