// The `mnist` package ships 10,000 real MNIST digits as JSON, without type declarations.
declare module 'mnist' {
  interface Digit {
    id: number;
    length: number;
    raw: number[];
  }
  const digits: Digit[];
  export default digits;
}
