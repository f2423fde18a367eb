"""A typed SDK function: input {"name": str, "times": int = 1}, no other fields; answers
{"greeting": "Hello, <name>!"} and logs `greeting <name>`."""

from pydantic import BaseModel, ConfigDict

from dirigent.sdk import Context, function, serve


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    times: int = 1


@function
def handle(input: Person, ctx: Context) -> dict[str, str]:
    ctx.log(f"greeting {input.name}")
    return {"greeting": " ".join([f"Hello, {input.name}!"] * input.times)}


if __name__ == "__main__":
    serve(handle)
