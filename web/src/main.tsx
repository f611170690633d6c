import { render } from "preact";

function App() {
  return <p>Cairn</p>;
}

render(<App />, document.getElementById("app")!);
