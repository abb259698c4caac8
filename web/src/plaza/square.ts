// The square on canvas (Phaser, canvas renderer: no GPU needed). An avatar walks with the arrow keys or
// W/A/S/D while the square has focus, or towards where the map is clicked or tapped; stepping into a
// place calls onEnter. The canvas is decoration for sighted users: the HTML list of places does the same.
import * as Phaser from "phaser";

export type PlaceId = "trail" | "feedback" | "shop" | "donation" | "record";

interface PlaceSpot {
  id: PlaceId;
  x: number;
  y: number;
  w: number;
  h: number;
  fill: number;
}

const WIDTH = 800;
const HEIGHT = 480;
const SPEED = 240; // world pixels a second
export const SPOTS: PlaceSpot[] = [
  { id: "trail", x: 20, y: 170, w: 170, h: 140, fill: 0xb7e4c7 },
  { id: "feedback", x: 315, y: 20, w: 170, h: 110, fill: 0xcfe2ff },
  { id: "shop", x: 610, y: 170, w: 170, h: 140, fill: 0xffe5b4 },
  { id: "donation", x: 540, y: 350, w: 240, h: 110, fill: 0xf8d7da },
  { id: "record", x: 20, y: 350, w: 240, h: 110, fill: 0xe2d9f3 },
];

export interface Square {
  setLabels(labels: Record<PlaceId, string>, you: string): void;
  stop(): void;
}

class PlazaScene extends Phaser.Scene {
  private avatar!: Phaser.GameObjects.Container;
  private you!: Phaser.GameObjects.Text;
  private labels = new Map<PlaceId, Phaser.GameObjects.Text>();
  private keys!: Record<string, Phaser.Input.Keyboard.Key>;
  private target: Phaser.Math.Vector2 | null = null;
  private inside: PlaceId | null = null;
  private pending: { labels: Record<PlaceId, string>; you: string } | null = null;

  constructor(
    private readonly onEnter: (id: PlaceId) => void,
    private readonly instant: boolean,
    private readonly fontFamily: string,
  ) {
    super("plaza");
  }

  create(): void {
    const g = this.add.graphics();
    g.fillStyle(0xe9f5ec).fillRect(0, 0, WIDTH, HEIGHT);
    g.fillStyle(0xd8d2c4).fillCircle(WIDTH / 2, HEIGHT / 2 + 10, 120); // the paved centre
    g.lineStyle(3, 0x6c757d, 1).strokeCircle(WIDTH / 2, HEIGHT / 2 + 10, 120);
    for (const spot of SPOTS) {
      g.fillStyle(spot.fill).fillRoundedRect(spot.x, spot.y, spot.w, spot.h, 16);
      g.lineStyle(3, 0x1b4332, 1).strokeRoundedRect(spot.x, spot.y, spot.w, spot.h, 16);
      const label = this.add
        .text(spot.x + spot.w / 2, spot.y + spot.h / 2, "", {
          fontFamily: this.fontFamily,
          fontSize: "22px",
          color: "#13201a",
          align: "center",
          wordWrap: { width: spot.w - 16, useAdvancedWrap: true },
        })
        .setOrigin(0.5);
      this.labels.set(spot.id, label);
    }
    const body = this.add.circle(0, 0, 18, 0x0b6b3a).setStrokeStyle(3, 0xffffff);
    const head = this.add.circle(0, -26, 10, 0xf4c9a0).setStrokeStyle(2, 0x13201a);
    this.you = this.add.text(0, 26, "", { fontFamily: this.fontFamily, fontSize: "16px", color: "#13201a" }).setOrigin(0.5, 0);
    this.avatar = this.add.container(WIDTH / 2, HEIGHT / 2 + 20, [body, head, this.you]);
    if (this.pending) this.setLabels(this.pending.labels, this.pending.you);

    const keyboard = this.input.keyboard!;
    this.keys = keyboard.addKeys("UP,DOWN,LEFT,RIGHT,W,A,S,D") as Record<string, Phaser.Input.Keyboard.Key>;
    this.input.on("pointerdown", (pointer: Phaser.Input.Pointer) => {
      const point = new Phaser.Math.Vector2(pointer.worldX, pointer.worldY);
      if (this.instant) {
        this.avatar.setPosition(point.x, point.y);
        this.arrived();
      } else {
        this.target = point;
      }
    });
  }

  update(_time: number, delta: number): void {
    const k = this.keys;
    const dx = (k.RIGHT.isDown || k.D.isDown ? 1 : 0) - (k.LEFT.isDown || k.A.isDown ? 1 : 0);
    const dy = (k.DOWN.isDown || k.S.isDown ? 1 : 0) - (k.UP.isDown || k.W.isDown ? 1 : 0);
    const step = (SPEED * Math.min(delta, 100)) / 1000;
    if (dx || dy) {
      this.target = null;
      const n = Math.hypot(dx, dy);
      this.moveBy((dx / n) * step, (dy / n) * step);
    } else if (this.target) {
      const gap = new Phaser.Math.Vector2(this.target.x - this.avatar.x, this.target.y - this.avatar.y);
      if (gap.length() <= step) {
        this.avatar.setPosition(this.target.x, this.target.y);
        this.target = null;
      } else {
        gap.normalize().scale(step);
        this.moveBy(gap.x, gap.y);
      }
    } else {
      return;
    }
    this.arrived();
  }

  private moveBy(x: number, y: number): void {
    this.avatar.setPosition(
      Phaser.Math.Clamp(this.avatar.x + x, 20, WIDTH - 20),
      Phaser.Math.Clamp(this.avatar.y + y, 36, HEIGHT - 20),
    );
  }

  private arrived(): void {
    const { x, y } = this.avatar;
    const spot = SPOTS.find((s) => x >= s.x && x <= s.x + s.w && y >= s.y && y <= s.y + s.h);
    const now = spot?.id ?? null;
    if (now !== this.inside) {
      this.inside = now;
      if (now) {
        this.target = null;
        this.onEnter(now);
      }
    }
  }

  setLabels(labels: Record<PlaceId, string>, you: string): void {
    this.pending = { labels, you };
    for (const [id, text] of this.labels) text.setText(labels[id]);
    this.you?.setText(you);
  }

  releaseKeys(): void {
    this.input.keyboard?.resetKeys();
  }
}

export function startSquare(
  host: HTMLElement,
  onEnter: (id: PlaceId) => void,
  options: { instant: boolean; fontFamily: string },
): Promise<Square> {
  const scene = new PlazaScene(onEnter, options.instant, options.fontFamily);
  return new Promise((resolve) => {
    const game = new Phaser.Game({
      type: Phaser.CANVAS,
      parent: host,
      width: WIDTH,
      height: HEIGHT,
      backgroundColor: "#e9f5ec",
      banner: false,
      audio: { noAudio: true },
      input: { keyboard: { target: host }, gamepad: false },
      scale: { mode: Phaser.Scale.FIT, autoCenter: Phaser.Scale.CENTER_HORIZONTALLY },
      scene,
      callbacks: {
        postBoot: (g) => {
          g.canvas.setAttribute("aria-hidden", "true");
          g.canvas.removeAttribute("tabindex");
          resolve({ setLabels: (l, y) => scene.setLabels(l, y), stop: () => scene.releaseKeys() });
        },
      },
    });
    // Keys held while focus moves away (a panel opened) must not keep the avatar walking.
    host.addEventListener("blur", () => scene.releaseKeys());
    window.addEventListener("blur", () => scene.releaseKeys());
    void game;
  });
}
