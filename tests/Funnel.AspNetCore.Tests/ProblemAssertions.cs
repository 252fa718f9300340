using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Funnel.AspNetCore.Tests;

internal static class ProblemAssertions
{
    /// <summary>Asserts a 400 ProblemDetails answer whose <c>errors</c> name <paramref name="field"/>, and returns its messages.</summary>
    public static Task<string> ShouldBeProblemForAsync(this HttpResponseMessage response, string field) =>
        response.ShouldBeProblemForAsync(field, HttpStatusCode.BadRequest);

    /// <summary>Asserts a ProblemDetails answer with <paramref name="status"/> whose <c>errors</c> name <paramref name="field"/>, and returns its messages.</summary>
    public static async Task<string> ShouldBeProblemForAsync(this HttpResponseMessage response, string field, HttpStatusCode status)
    {
        response.StatusCode.ShouldBe(status);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        problem.GetProperty("status").GetInt32().ShouldBe((int)status);
        problem.GetProperty("errors").TryGetProperty(field, out JsonElement messages).ShouldBeTrue($"errors should name '{field}': {problem}");
        return string.Join(" ", messages.EnumerateArray().Select(m => m.GetString()));
    }
}
