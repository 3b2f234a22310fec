package dev.open.report;

import java.util.ArrayList;
import java.util.List;

import org.eclipse.elk.alg.layered.options.LayeredMetaDataProvider;
import org.eclipse.elk.alg.layered.options.LayeredOptions;
import org.eclipse.elk.core.RecursiveGraphLayoutEngine;
import org.eclipse.elk.core.data.LayoutMetaDataService;
import org.eclipse.elk.core.options.CoreOptions;
import org.eclipse.elk.core.options.Direction;
import org.eclipse.elk.core.options.EdgeRouting;
import org.eclipse.elk.core.util.BasicProgressMonitor;
import org.eclipse.elk.graph.ElkBendPoint;
import org.eclipse.elk.graph.ElkEdge;
import org.eclipse.elk.graph.ElkEdgeSection;
import org.eclipse.elk.graph.ElkNode;
import org.eclipse.elk.graph.util.ElkGraphUtil;

/**
 * Lays a graph of boxes out left to right with Eclipse ELK's layered algorithm (Sugiyama-style:
 * layers, crossing minimisation, orthogonal edges). Only coordinates leave this class.
 */
final class Layout {
  static {
    LayoutMetaDataService.getInstance()
        .registerLayoutMetaDataProviders(new LayeredMetaDataProvider());
  }

  /** Box {@code i} at {@code x[i], y[i]}, sized {@code w[i] x h[i]}. */
  final double[] x;
  final double[] y;
  final double width;
  final double height;
  /** Each edge's polyline as x0, y0, x1, y1, … */
  final List<double[]> edges;

  private Layout(double[] x, double[] y, double width, double height, List<double[]> edges) {
    this.x = x;
    this.y = y;
    this.width = width;
    this.height = height;
    this.edges = edges;
  }

  /**
   * Lays out {@code w.length} boxes joined by edges {@code from[k] -> to[k]}.
   *
   * @param w the boxes' widths
   * @param h the boxes' heights
   * @param from each edge's source box
   * @param to each edge's target box
   * @return the positions and edge routes
   */
  static Layout of(double[] w, double[] h, int[] from, int[] to) {
    ElkNode root = ElkGraphUtil.createGraph();
    root.setProperty(CoreOptions.ALGORITHM, LayeredOptions.ALGORITHM_ID);
    root.setProperty(CoreOptions.DIRECTION, Direction.RIGHT);
    root.setProperty(CoreOptions.EDGE_ROUTING, EdgeRouting.ORTHOGONAL);
    root.setProperty(CoreOptions.SPACING_NODE_NODE, 14.0);
    root.setProperty(LayeredOptions.SPACING_NODE_NODE_BETWEEN_LAYERS, 36.0);
    root.setProperty(CoreOptions.PADDING, new org.eclipse.elk.core.math.ElkPadding(12));
    if (w.length > 300) {
      root.setProperty(LayeredOptions.THOROUGHNESS, 2); // crossing minimisation: fewer sweeps
    }
    ElkNode[] boxes = new ElkNode[w.length];
    for (int i = 0; i < w.length; i++) {
      boxes[i] = ElkGraphUtil.createNode(root);
      boxes[i].setDimensions(w[i], h[i]);
    }
    ElkEdge[] links = new ElkEdge[from.length];
    for (int k = 0; k < from.length; k++) {
      links[k] = ElkGraphUtil.createSimpleEdge(boxes[from[k]], boxes[to[k]]);
    }
    new RecursiveGraphLayoutEngine().layout(root, new BasicProgressMonitor());
    double[] x = new double[w.length];
    double[] y = new double[w.length];
    for (int i = 0; i < w.length; i++) {
      x[i] = boxes[i].getX();
      y[i] = boxes[i].getY();
    }
    List<double[]> routes = new ArrayList<>(from.length);
    for (ElkEdge link : links) {
      routes.add(route(link));
    }
    return new Layout(x, y, root.getWidth(), root.getHeight(), routes);
  }

  private static double[] route(ElkEdge link) {
    if (link.getSections().isEmpty()) {
      return new double[0];
    }
    ElkEdgeSection section = link.getSections().get(0);
    List<ElkBendPoint> bends = section.getBendPoints();
    double[] points = new double[4 + 2 * bends.size()];
    points[0] = section.getStartX();
    points[1] = section.getStartY();
    int p = 2;
    for (ElkBendPoint bend : bends) {
      points[p++] = bend.getX();
      points[p++] = bend.getY();
    }
    points[p++] = section.getEndX();
    points[p] = section.getEndY();
    return points;
  }
}
